"""The README of proto-schemas/v1/vectors/: the format and the decision, for someone who never reads Python."""

from __future__ import annotations

from interpol_mesh.crypto import KEY_DIRECTORY_TYPE, FileSigner, KeyDirectoryDocument
from interpol_offices.cli.vector_kit import GENERATED, NOW, T0, Vector

TEMPLATE = """\
# Conformance vectors (v1)

{generated}

Each file here is one message as it arrives at one office, with everything the office needs to decide
it, and the decision it must reach: **accept**, or **refuse with a reason code**. A receiver written in
any language conforms when it reaches every expected decision. The Python receiver
(`tests/test_vectors.py`) and an independent Node.js verifier (`interop/node`) both replay all of them.

**Every key here is a public test key: never list one in a real key directory.** Each private seed is
`sha256("interpol-mesh example key <name>")`; the office keys are the same as in `../examples/`.

## Files

| file | what it is |
|---|---|
| `trust-anchor.pub` | base64 Ed25519 public key (one line) of the test General Secretariat root key `{root_id}` |
| `key-directory.json` | the key directory envelope (payload type `{directory_type}`), signed by that root |
| `offices.json` | `{{"offices": [...]}}`: the office ids of the directory; anything else is no office |
| `index.json` | `{{"version": 1, "vectors": [...]}}`: every vector file, relative to this folder |
| `accept/<name>.json` | a message that must be accepted |
| `refuse/<reason>[--<variant>].json` | a message that must be refused with code `<reason>` |

## How to use them

1. Verify `key-directory.json` with `trust-anchor.pub` exactly as any envelope (DSSE PAE, Ed25519), then
   parse its payload. It is the key directory for **every** vector. It lists, per key: `key_id`,
   `office_id`, `public_key` (base64), `valid_from`, and optionally `valid_until` and `revoked_from`.
2. For each path in `index.json`, read the vector and decide `message` as the office `receiver` would
   when it pulls it from the NATS subject `subject`, with its clock at `now`, the bus storage time
   `stored_at`, and the receiver's database described by `state`.
3. Compare with `expected`. For a refusal, the **reason code** must match (the detail text is free).

## A vector

```json
{{
  "name": "refuse/bad-signature--payload-altered",
  "description": "One sentence: what is wrong with this message.",
  "receiver": "ncb.fr",
  "subject": "mesh.v1.direct.ncb_de.ncb_fr",
  "now": "2026-01-05T14:00:00+00:00",
  "stored_at": "2026-01-05T12:00:01+00:00",
  "state": {{"accepted_message_ids": [], "sent": [], "processing_fails": false}},
  "message": "<standard base64 of the exact NATS message data bytes>",
  "expected": {{"outcome": "refuse", "reason": "bad-signature"}}
}}
```

| field | meaning |
|---|---|
| `name` | the file's path without `.json` |
| `description` | what the vector tests, in one sentence |
| `receiver` | the office id deciding (the one whose inbox this is): the recipient check uses it |
| `subject` | the NATS subject the message arrived on; its sender token names an office as step 0 of `proto-schemas/README.md` says (office id ↔ subject token), else `header-mismatch` |
| `now` | the receiver's clock (RFC 3339), for the future, expiry and receipt-time checks |
| `stored_at` | when the bus (JetStream) stored the message, or `null` if unknown; used by step 10 |
| `state.accepted_message_ids` | message ids this receiver already accepted: one more is a `replay` |
| `state.sent` | messages this receiver sent, each `{{"message_id", "recipients", "digest", "created_at"}}` (the receipt checks) |
| `state.processing_fails` | `true`: the receiver's handler fails on every attempt, so a message that passes every check ends as `processing-failed` |
| `message` | standard base64 of the exact bytes of the NATS message data. Decode it once; the SHA-256 of **these** bytes is the message's digest |
| `expected.outcome` | `accept` or `refuse` |
| `expected.reason` | the reason code for `refuse`, `null` for `accept` |
| `expected.kind`, `expected.message_id` | (accept) the signed header's kind and message id |
| `expected.cosigners` | (accept, notice events) the signatures carried inside the message beside the sender's: `[{{"office_id", "key_id"}}]` |
| `expected.ignored_fields` | (accept) unknown fields the receiver ignored, as dotted paths from the signed content (`body.person.x_middle_name`, `body.request.signatures.0.x_alg`), in the order they appear in the payload |

## The decision

Decide each vector exactly as `proto-schemas/README.md` says ("Verifying an envelope, step by step":
steps 0–15, then replay, the receipt checks and processing; "Strict JSON" for what the schemas cannot
express). That README is the reference; this folder adds nothing to it. The vector's fields are the
inputs of those steps:

| step | uses |
|---|---|
| 0 (subject), 8 (recipients are offices) | `subject`, `offices.json` |
| 4–6, 10, 14 (keys, signatures, co-signature) | `key-directory.json` (the same for every vector) |
| 9 (not a recipient) | `receiver` |
| 10 (key times) | the signed `created_at`, and `stored_at` unless it is `null` (then skip the storage-time checks) |
| 11, 12 (future, expired) | `now` |
| replay | `state.accepted_message_ids`: the header's `message_id` in it → `replay` |
| receipt checks (kind `receipt`) | `state.sent` and `now`, in this order → `receipt-mismatch`: `body.for_message_id` not in `state.sent`; the receipt's header sender not among that entry's `recipients`; `body.digest` ≠ its `digest`; `body.at` more than 5 minutes before its `created_at`; `body.at` more than 5 minutes after `now` |
| processing | `state.processing_fails: true` → `processing-failed` |

Otherwise the message is accepted; `expected.kind` and `expected.message_id` are its signed header's,
`expected.cosigners` the co-signatures step 14 verified (in list order), `expected.ignored_fields` the
unknown fields it ignored, named as in "Strict JSON". Times in the vectors carry various offsets
(`2026-01-05T13:00:00+01:00` equals `2026-01-05T12:00:00+00:00`): compare them as instants.

## Keys and clock

The vectors' key directory (version {version}, issued {issued}) lists:

| key id | office | valid from | valid until | revoked from |
|---|---|---|---|---|
{keys}

Most vectors are signed at `{t0}` and decided at `now = {now}`; each vector states its own `now` and
`stored_at`, so use those.

## The vectors ({count}: {accepts} accept, {refuses} refuse)

| vector | expected | description |
|---|---|---|
{rows}

Every reason code of the mesh has at least one refusal here: {codes}.
"""


def readme(found: list[Vector], doc: KeyDirectoryDocument, root: FileSigner) -> str:
    def at(value: object) -> str:
        return f"`{value.isoformat()}`" if value is not None and hasattr(value, "isoformat") else "—"

    rows = []
    for v in found:
        expected = v.expected["reason"] or "accept"
        rows.append(f"| [`{v.name}`]({v.name}.json) | `{expected}` | {v.description} |")
    codes = sorted({v.expected["reason"] for v in found if v.expected["reason"]})
    accepts = sum(1 for v in found if v.expected["outcome"] == "accept")
    return TEMPLATE.format(
        generated=GENERATED,
        root_id=root.key_id,
        directory_type=KEY_DIRECTORY_TYPE,
        version=doc.version,
        issued=doc.issued_at.isoformat(),
        keys="\n".join(
            f"| `{k.key_id}` | {k.office_id} | {at(k.valid_from)} | {at(k.valid_until)} | {at(k.revoked_from)} |"
            for k in doc.keys
        ),
        t0=T0.isoformat(),
        now=NOW.isoformat(),
        count=len(found),
        accepts=accepts,
        refuses=len(found) - accepts,
        rows="\n".join(rows),
        codes=", ".join(f"`{c}`" for c in codes),
    )
