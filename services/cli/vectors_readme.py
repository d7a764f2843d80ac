"""The README of proto-schemas/v1/vectors/: the format and the decision, for someone who never reads Python."""

from __future__ import annotations

from typing import TYPE_CHECKING

from interpol_mesh.crypto import KEY_DIRECTORY_TYPE, FileSigner, KeyDirectoryDocument
from interpol_mesh.envelope import MAX_ENVELOPE_BYTES

if TYPE_CHECKING:
    from interpol_offices.cli.vectors import Vector

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
| `subject` | the NATS subject the message arrived on. Its sender token is `<from>` of `mesh.v1.direct.<from>.<to>`, or the GS (`gs`) for `mesh.v1.notice.<to>`. A token becomes an office id as itself if that is an office, else with its first `_` turned into `.` if that is an office (`ncb_fr` → `ncb.fr`); otherwise the subject names no office → `header-mismatch`. |
| `now` | the receiver's clock (RFC 3339), for the future, expiry and receipt-time checks |
| `stored_at` | when the bus (JetStream) stored the message, or `null` if unknown; used by the key-time checks below |
| `state.accepted_message_ids` | message ids this receiver already accepted: one more is a `replay` |
| `state.sent` | messages this receiver sent, each `{{"message_id", "recipients", "digest", "created_at"}}` (the receipt checks) |
| `state.processing_fails` | `true`: the receiver's handler fails on every attempt, so a message that passes every check ends as `processing-failed` |
| `message` | standard base64 of the exact bytes of the NATS message data. Decode it once; the SHA-256 of **these** bytes is the message's digest |
| `expected.outcome` | `accept` or `refuse` |
| `expected.reason` | the reason code for `refuse`, `null` for `accept` |
| `expected.kind`, `expected.message_id` | (accept) the signed header's kind and message id |
| `expected.cosigners` | (accept, notice events) the signatures carried inside the message beside the sender's: `[{{"office_id", "key_id"}}]` |
| `expected.ignored_fields` | (accept) unknown fields the receiver ignored, as dotted paths from the signed content (`body.person.x_middle_name`), sorted |

## The decision, in order

Stop at the first failure; its reason code is the decision. Steps 1–13 are those of
`proto-schemas/README.md` ("Verifying an envelope, step by step"), which is the reference; in short:

1. more than {max_bytes} bytes → `oversized`
2. not exactly a DSSE envelope with one reading of the JSON (duplicate key, extra field, non-standard base64,
   empty or repeated signatures, `NaN`) → `malformed`
3. payload type `application/vnd.interpol-mesh.<kind>.v<N>+json` with N ≠ 1 (any kind name) →
   `unsupported-version`; any other payload type that is not a v1 kind this receiver knows → `unsupported-type`
4. each signature: key id not in the directory → `unknown-key`
5. key not of the subject's sender → `wrong-office-key` (a subject that names no office: `header-mismatch`
   before anything else)
6. Ed25519 over PAE(payloadType, payload bytes) fails (including a signature that is not 64 bytes) → `bad-signature`
7. the signed payload is not exactly `{{"header", "body"}}` with one reading, or the header breaks
   `header.schema.json` (types without coercion, distinct recipients, `expires_at` after `created_at`) →
   `malformed`. Unknown header fields are **ignored**, not refused.
8. header kind ≠ payload type's kind, header sender ≠ subject's sender, or a recipient that is no office →
   `header-mismatch`
9. receiver not among the recipients → `not-a-recipient`
10. for each signing key at `header.created_at`: `revoked_from` ≤ created_at → `revoked-key`; created_at
    before `valid_from` or at/after `valid_until` → `key-not-valid-at-signing-time`. Then, if `stored_at` is
    not null: `stored_at` ≥ `revoked_from` → `revoked-key`; `stored_at` ≥ `valid_until` + 5 minutes →
    `key-not-valid-at-signing-time` (the bus's clock bounds a backdated signature)
11. `created_at` more than 5 minutes after `now` → `from-the-future`
12. `expires_at` set and ≤ `now` → `expired`
13. the body breaks its kind's schema (types without coercion, required fields, limits) → `schema-invalid`.
    Unknown body fields, at any depth, are **ignored**, not refused.
14. **signer policy** (only kind `notice-event`), in this order:
    a. header sender is not `gs` → `missing-signer`;
    b. event `published` or `updated` without `body.request` → `missing-signer` (`cancelled`: optional);
    c. if `body.request` is present (a DSSE envelope as an object: `payloadType`, `payload` in standard base64,
       `signatures`): its payload type is not `notice-request` v1, or any signature's key is not in the
       directory, not of `body.requesting_office`, or does not verify over PAE(inner payloadType, inner payload
       bytes), or the inner payload is not a strict `{{"header","body"}}` notice request, or the inner header's
       kind is not `notice-request` or its sender is not `body.requesting_office`, or an inner key is revoked or
       not valid at the inner `created_at` → `bad-cosignature`;
    d. inner header `message_id` ≠ `body.notice_id`, or the inner body differs from `body.notice` (comparing with
       `requesting_office` taken as the inner signed sender), or `body.requesting_office`,
       `body.notice.requesting_office` and the inner sender are not all the same → `cosignature-mismatch`.
    The accepted notice's co-signers are the inner signatures: `[{{"office_id", "key_id"}}]`.
15. the kind must travel on its subject family: a `notice-event` only on `mesh.v1.notice.<to>`, every other
    kind only on `mesh.v1.direct.<from>.<to>` → `header-mismatch`
16. the header's `message_id` is in `state.accepted_message_ids` → `replay`
17. kind `receipt` (this receiver being the sender of the acknowledged message) → `receipt-mismatch` when:
    `body.for_message_id` is not in `state.sent`; or the receipt's header sender is not among that entry's
    `recipients`; or `body.digest` ≠ that entry's `digest`; or `body.at` is more than 5 minutes before its
    `created_at`; or `body.at` is more than 5 minutes after `now`
18. `state.processing_fails` → `processing-failed`
19. otherwise → **accept**

Times are compared as instants (the offsets differ between files; `2026-01-05T13:00:00+01:00` equals
`2026-01-05T12:00:00+00:00`). "5 minutes" is exactly 300 seconds; "more than" is strict.

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
    from interpol_offices.cli.vectors import GENERATED, NOW, T0

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
        max_bytes=MAX_ENVELOPE_BYTES,
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
