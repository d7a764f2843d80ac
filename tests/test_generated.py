"""The committed wire contract matches the code, and its signed examples verify from those files alone."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, get_args

import pytest
from nacl.signing import VerifyKey

from interpol_mesh.crypto import KeyDirectory, open_directory
from interpol_mesh.envelope import Header, Rejected, RejectReason, Verified, digest_of, open_envelope
from interpol_mesh.messages import BODY_MODELS
from interpol_offices.cli import generate

ROOT = generate.ROOT
V1 = ROOT / generate.V1
EXAMPLES = ROOT / generate.EXAMPLES
CONTRACT_README = ROOT / "proto-schemas" / "README.md"


def test_committed_generated_files_match_the_code() -> None:
    stale = generate.problems(ROOT, generate.render())
    assert not stale, "generated files differ from the code; run `make gen` and commit:\n" + "\n".join(stale)


def test_check_mode_lists_every_missing_stale_and_extra_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert generate.main(["--check", "--root", str(tmp_path)]) == 1
    assert f"missing: {generate.V1}/envelope.schema.json" in capsys.readouterr().out
    assert generate.main(["--root", str(tmp_path)]) == 0
    assert generate.main(["--check", "--root", str(tmp_path)]) == 0
    (tmp_path / generate.V1 / "header.schema.json").write_text("{}\n")
    (tmp_path / generate.V1 / "old.schema.json").write_text("{}\n")
    capsys.readouterr()
    assert generate.main(["--check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"stale:   {generate.V1}/header.schema.json" in out
    assert any(line.startswith(f"extra:   {generate.V1}/old.schema.json") for line in out)
    assert generate.main(["--root", str(tmp_path)]) == 0
    assert not (tmp_path / generate.V1 / "old.schema.json").exists()
    assert generate.problems(tmp_path, generate.render()) == []


def test_generation_is_byte_identical_when_repeated() -> None:
    assert generate.render() == generate.render()


# -- The examples verify with nothing but the committed files --------------------------------------


def _wire(name: str) -> bytes:
    data: bytes = (EXAMPLES / name).read_bytes()
    assert data.endswith(b"\n") and not data.endswith(b"\n\n")
    return data[:-1]


def _example_keys() -> KeyDirectory:
    anchor = VerifyKey(base64.b64decode((EXAMPLES / "trust-anchor.pub").read_text().strip()))
    return KeyDirectory(open_directory(_wire("key-directory.json"), anchor))


def _unverified_header(raw: bytes) -> Header:
    """Test-only peek at who the example is from and to; a receiver learns the sender from the subject."""
    return Header.model_validate(json.loads(base64.b64decode(json.loads(raw)["payload"]))["header"])


def _open(raw: bytes, recipient: str, sender: str | None = None) -> Verified:
    sender = sender or _unverified_header(raw).sender
    return open_envelope(
        raw,
        subject_sender=sender,
        recipient=recipient,
        keys=_example_keys(),
        offices=generate.EXAMPLE_RECIPIENT_OFFICES,
        now=generate.EXAMPLE_VERIFY_AT,
    )


@pytest.mark.parametrize("kind", list(BODY_MODELS))
def test_every_example_envelope_verifies_for_each_recipient(kind: str) -> None:
    raw = _wire(f"{kind}.json")
    header = _unverified_header(raw)
    for recipient in header.recipients:
        verified = _open(raw, recipient)
        assert verified.header == header and verified.header.kind == kind
        assert isinstance(verified.body, BODY_MODELS[kind])
        assert verified.key_id == f"{header.sender}/20260101T000000-example"


def test_a_tampered_or_misaddressed_example_is_refused() -> None:
    raw = _wire("diffusion.json")
    outer = json.loads(raw)
    payload = base64.b64decode(outer["payload"]).replace(b"BEISPIEL", b"BEISPIEX", 1)
    tampered = json.dumps(outer | {"payload": base64.b64encode(payload).decode()}).encode()
    with pytest.raises(Rejected) as bad:
        _open(tampered, "ncb.fr", sender="ncb.de")
    assert bad.value.reason == "bad-signature"
    with pytest.raises(Rejected) as stranger:
        _open(raw, "ncb.it")
    assert stranger.value.reason == "not-a-recipient"
    with pytest.raises(Rejected) as impostor:
        _open(raw, "ncb.fr", sender="ncb.es")
    assert impostor.value.reason == "wrong-office-key"


def test_the_example_receipt_carries_the_digest_of_the_example_hit_report() -> None:
    receipt = _open(_wire("receipt.json"), "ncb.es").body
    assert getattr(receipt, "digest", None) == digest_of(_wire("hit-report.json"))


# -- Schemas, AsyncAPI and the contract README ------------------------------------------------------


def _schemas() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(V1.glob("*.schema.json"))}


def test_every_schema_parses_and_has_its_id_title_and_description() -> None:
    schemas = _schemas()
    expected = {f"{k}.schema.json" for k in BODY_MODELS}
    expected |= {f"{n}.schema.json" for n in ("envelope", "signed-content", "header", "key-directory")}
    assert set(schemas) == expected
    for name, schema in schemas.items():
        assert schema["$id"] == f"{generate.BASE_URI}{name}"
        assert schema["$schema"] == generate.DIALECT
        assert schema["title"] and schema["description"]


def test_schemas_accept_the_examples_and_unknown_fields_inside_header_and_body_only() -> None:
    import jsonschema
    import referencing

    schemas = _schemas()
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in schemas.values()
    )

    def errors(name: str, instance: object) -> list[str]:
        validator = jsonschema.Draft202012Validator(schemas[name], registry=registry)
        return [e.message for e in validator.iter_errors(instance)]

    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    for path in sorted(EXAMPLES.glob("*.json")):
        outer = json.loads(path.read_bytes())
        assert errors("envelope.schema.json", outer) == []
        content = json.loads(base64.b64decode(outer["payload"]))
        if path.stem == "key-directory":
            assert errors("key-directory.schema.json", content) == []
            continue
        assert errors("signed-content.schema.json", content) == []
        assert errors(f"{path.stem}.schema.json", content["body"]) == []
        # What a v1 receiver accepts: unknown fields inside the header and the body are ignored ...
        assert errors("signed-content.schema.json", content | {"body": content["body"] | {"surplus": 1}}) == []
        assert errors("signed-content.schema.json", content | {"header": content["header"] | {"surplus": 1}}) == []
        # ... while the signed content, the envelope and each of its signatures stay exactly their fields.
        assert errors("signed-content.schema.json", content | {"surplus": 1})
        assert errors("envelope.schema.json", outer | {"surplus": 1})
        assert errors("envelope.schema.json", outer | {"signatures": [outer["signatures"][0] | {"surplus": 1}]})
        # Known fields keep their types.
        assert errors("signed-content.schema.json", content | {"header": content["header"] | {"priority": 1}})


def test_every_object_of_a_header_or_body_schema_says_unknown_fields_are_ignored() -> None:
    """Where receivers ignore unknown fields, the schema says so on every object a model describes."""

    def objects(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, list):
            return [o for item in node for o in objects(item)]
        if not isinstance(node, dict):
            return []
        found = [node] if "properties" in node else []
        return found + [o for value in node.values() for o in objects(value)]

    for name in ["header", *BODY_MODELS]:
        schema = json.loads((V1 / f"{name}.schema.json").read_text())
        for obj in objects(schema):
            assert obj.get(generate.UNKNOWN_FIELDS) == "ignore" and "additionalProperties" not in obj, (name, obj)
    for name in ("envelope", "signed-content", "key-directory"):
        schema = json.loads((V1 / f"{name}.schema.json").read_text())
        assert schema["additionalProperties"] is False and generate.UNKNOWN_FIELDS not in json.dumps(schema)


def test_asyncapi_yaml_parses_to_the_generated_document() -> None:
    import yaml

    files = generate.render()
    key_directory = files[f"{generate.EXAMPLES}/key-directory.json"].rstrip(b"\n")
    expected = json.loads(json.dumps(generate.asyncapi(generate.example_envelopes(), key_directory)))
    document = yaml.safe_load((V1 / "asyncapi.yaml").read_text())
    assert document == expected
    assert document["asyncapi"] == "3.0.0"
    assert set(document["channels"]) == {"direct", "notice", "search", "searchReply", "keyDirectory"}


def test_contract_readme_documents_every_header_field_and_reject_reason() -> None:
    text = CONTRACT_README.read_text()
    missing = [f for f in Header.model_fields if f"`{f}`" not in text]
    missing += [r for r in get_args(RejectReason) if f"`{r}`" not in text]
    assert not missing, f"proto-schemas/README.md does not mention: {', '.join(missing)}"
