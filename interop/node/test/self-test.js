// Damaged and re-signed copies of proto-schemas/v1/examples/, decided by lib/verify.js.
// The example keys are public test keys: seed = sha256("interpol-mesh example key <office id>")
// (examples/README.md), so these copies can be re-signed. Run: node --test test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash, createPrivateKey, sign } from "node:crypto";
import { verifyKeyDirectory, openEnvelope, decideVector, pae, sha256hex, b64decode } from "../lib/verify.js";
import { parseStrict } from "../lib/strict-json.js";

const EX = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "proto-schemas", "v1", "examples");
const rd = (f) => {
  const b = readFileSync(join(EX, f));
  return b.subarray(0, b.length - 1); // the newline is not part of the message
};
const dir = verifyKeyDirectory(rd("key-directory.json"), readFileSync(join(EX, "trust-anchor.pub"), "utf8").trim());
const NOW = "2026-01-05T14:00:00+00:00";
const PK8 = Buffer.from("302e020100300506032b657004220420", "hex");
const keyOf = (office) =>
  createPrivateKey({ key: Buffer.concat([PK8, createHash("sha256").update(`interpol-mesh example key ${office}`).digest()]), format: "der", type: "pkcs8" });

function envelope(payloadType, payloadBytes, office, keyid = `${office}/20260101T000000-example`) {
  const payload = Buffer.from(payloadBytes);
  const sig = sign(null, pae(payloadType, payload), keyOf(office)).toString("base64");
  return { payloadType, payload: payload.toString("base64"), signatures: [{ keyid, sig }] };
}
const bytesOf = (env) => Buffer.from(JSON.stringify(env));
const contentOf = (file) => JSON.parse(Buffer.from(JSON.parse(rd(file)).payload, "base64"));
const open = (raw, subject, receiver, now = NOW) => openEnvelope(raw, { subject, receiver, keyDirectory: dir, now });
const DIFF = ["mesh.v1.direct.ncb_de.ncb_fr", "ncb.fr"];
const diffType = "application/vnd.interpol-mesh.diffusion.v1+json";

function resign(mutate, { type = diffType, office = "ncb.de", text } = {}) {
  const c = contentOf("diffusion.json");
  mutate?.(c);
  return bytesOf(envelope(type, text ?? JSON.stringify(c), office));
}

const cases = [
  ["examples verify", () => rd("diffusion.json"), "accept", null],
  ["re-signed copy verifies", () => resign(), "accept", null],
  ["oversized", () => Buffer.concat([rd("diffusion.json"), Buffer.alloc(262144, 0x20)]), "refuse", "oversized"],
  ["duplicate envelope key", () => Buffer.from(rd("diffusion.json").toString().replace('{"payloadType"', '{"payloadType":"x","payloadType"')), "refuse", "malformed"],
  ["extra envelope field", () => Buffer.from(rd("diffusion.json").toString().replace('{"payloadType"', '{"x":1,"payloadType"')), "refuse", "malformed"],
  ["invalid UTF-8", () => Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff]), Buffer.from('"}')]), "refuse", "malformed"],
  ["url-safe base64 payload", () => {
    const e = JSON.parse(resign((c) => { c.body.title = "???>>>"; }));
    assert.match(e.payload, /[+/]/);
    e.payload = e.payload.replaceAll("+", "-").replaceAll("/", "_");
    return bytesOf(e);
  }, "refuse", "malformed"],
  ["v2 payload type", () => resign(null, { type: "application/vnd.interpol-mesh.diffusion.v2+json" }), "refuse", "unsupported-version"],
  ["unknown kind v1", () => resign(null, { type: "application/vnd.interpol-mesh.telegram.v1+json" }), "refuse", "unsupported-type"],
  ["unknown kind v3", () => resign(null, { type: "application/vnd.interpol-mesh.telegram.v3+json" }), "refuse", "unsupported-version"],
  ["wrong office key", () => resign(null, { office: "ncb.fr" }), "refuse", "wrong-office-key"],
  ["unknown key", () => bytesOf(envelope(diffType, JSON.stringify(contentOf("diffusion.json")), "ncb.de", "ncb.de/nope")), "refuse", "unknown-key"],
  ["payload altered", () => {
    const e = JSON.parse(rd("diffusion.json"));
    const p = Buffer.from(e.payload, "base64");
    p[p.length - 3] ^= 1;
    e.payload = p.toString("base64");
    return bytesOf(e);
  }, "refuse", "bad-signature"],
  ["duplicate key in signed header", () => resign(null, { text: JSON.stringify(contentOf("diffusion.json")).replace('"sender":"ncb.de"', '"sender":"ncb.fr","sender":"ncb.de"') }), "refuse", "malformed"],
  ["NaN in payload", () => resign(null, { text: JSON.stringify(contentOf("diffusion.json")).replace('"body":{', '"body":{"x":NaN,') }), "refuse", "malformed"],
  ["time as number", () => resign((c) => { c.header.created_at = 1767614400; }), "refuse", "malformed"],
  ["expires before created", () => resign((c) => { c.header.expires_at = "2026-01-01T00:00:00Z"; }), "refuse", "malformed"],
  ["kind mismatch", () => resign((c) => { c.header.kind = "message"; }), "refuse", "header-mismatch"],
  ["non-office recipient", () => resign((c) => { c.header.recipients.push("ncb.xx"); }), "refuse", "header-mismatch"],
  ["not a recipient", () => resign((c) => { c.header.recipients = ["ncb.es"]; }), "refuse", "not-a-recipient"],
  ["before key valid", () => resign((c) => { c.header.created_at = "2025-12-31T23:59:59Z"; }), "refuse", "key-not-valid-at-signing-time"],
  ["from the future", () => resign((c) => { c.header.created_at = "2026-01-05T14:05:01Z"; }), "refuse", "from-the-future"],
  ["at the future limit", () => resign((c) => { c.header.created_at = "2026-01-05T14:05:00Z"; }), "accept", null],
  ["expired", () => resign((c) => { c.header.expires_at = "2026-01-05T14:00:00Z"; }), "refuse", "expired"],
  ["body schema", () => resign((c) => { c.body = { ...c.body, title: 7 }; }), "refuse", "schema-invalid"],
  // the payload is {header, body}; the body's own shape is its kind's schema (step 13), the header's step 7
  ["body an array", () => resign((c) => { c.body = []; }), "refuse", "schema-invalid"],
  ["header an array", () => resign((c) => { c.header = []; }), "refuse", "malformed"],
  // a number field takes an integer, and a fraction; an unknown field's number is nobody's business
  ["number field written 10.0", () => resign(null, { text: JSON.stringify(contentOf("diffusion.json")).replace('"max_penalty_years":null', '"max_penalty_years":10.0') }), "accept", null],
  ["unknown field written 1.0", () => resign(null, { text: JSON.stringify(contentOf("diffusion.json")).replace('"body":{', '"body":{"x_score":1.0,') }), "accept", null],
];

for (const [name, make, outcome, reason] of cases) {
  test(name, () => {
    const r = open(make(), ...DIFF);
    assert.deepEqual([r.outcome, r.reason], [outcome, reason], r.detail ?? "");
  });
}

test("unknown header and nested body fields are accepted and named", () => {
  const r = open(resign((c) => {
    c.header.x_new = 1;
    c.body.x_new_field = "y";
  }), ...DIFF);
  assert.equal(r.outcome, "accept", r.detail ?? "");
  assert.deepEqual(r.ignoredFields.sort(), ["body.x_new_field", "header.x_new"]);
  assert.equal("x_new_field" in r.body, false);
});

// ---- integers are written without fraction or exponent ----
const KR = ["mesh.v1.direct.ncb_de.gs", "gs"];
const rotation = (overlap) =>
  bytesOf(envelope("application/vnd.interpol-mesh.key-rotation.v1+json", JSON.stringify(contentOf("key-rotation.json")).replace('"overlap_seconds":86400', `"overlap_seconds":${overlap}`), "ncb.de"));
for (const [lexeme, outcome, reason] of [["86400", "accept", null], ["86400.0", "refuse", "schema-invalid"], ["864e2", "refuse", "schema-invalid"], ["8.64E4", "refuse", "schema-invalid"]]) {
  test(`integer field written ${lexeme}: ${reason ?? outcome}`, () => {
    const r = open(rotation(lexeme), ...KR);
    assert.deepEqual([r.outcome, r.reason], [outcome, reason], r.detail ?? "");
  });
}

test("strict parser reports numbers written with a fraction or exponent by path", () => {
  const fractional = [];
  parseStrict('{"a":1,"b":[2,3.0,{"c":4e0}],"d":{"e":-0.5}}', { fractional });
  assert.deepEqual(fractional, [["b", 1], ["b", 2, "c"], ["d", "e"]]);
});

test("base64 with non-zero unused bits before the padding has no one reading", () => {
  assert.equal(b64decode("QR=="), null);
  assert.deepEqual(b64decode("QQ=="), Buffer.from("A"));
  assert.deepEqual(b64decode("QUI="), Buffer.from("AB"));
  assert.equal(b64decode("QUJ="), null);
  // the same signed bytes, spelled with the lowest unused bit set: refused before any signature check
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const padded = ["", "x", "xx"].map((x) => resign((c) => { c.body.title += x; })).find((raw) => JSON.parse(raw).payload.endsWith("="));
  const e = JSON.parse(padded);
  e.payload = e.payload.replace(/(.)(=+)$/, (_, ch, pad) => alphabet[alphabet.indexOf(ch) | 1] + pad);
  assert.deepEqual(Buffer.from(e.payload, "base64"), Buffer.from(JSON.parse(padded).payload, "base64"));
  const r = open(bytesOf(e), ...DIFF);
  assert.equal(r.reason, "malformed", r.detail ?? "");
  assert.match(r.detail, /base64/);
});

test("strict parser: duplicate after escape, lone surrogate, overflow", () => {
  assert.throws(() => parseStrict('{"a":1,"\\u0061":2}'));
  assert.throws(() => parseStrict('"\\ud800"'));
  assert.throws(() => parseStrict("1e400"));
  assert.throws(() => parseStrict("\ufeff{}"));
  assert.deepEqual(parseStrict('{"__proto__":{"x":1}}').__proto__, { x: 1 });
});

// ---- co-signed notices ----
const reqContent = contentOf("notice-request.json");
const reqEnvelope = JSON.parse(rd("notice-request.json"));
const NE = "application/vnd.interpol-mesh.notice-event.v1+json";
function noticeEvent(mutate, office = "gs") {
  const c = contentOf("notice-event.json");
  c.body.request = reqEnvelope;
  c.body.notice_id = reqContent.header.message_id;
  mutate?.(c);
  return bytesOf(envelope(NE, JSON.stringify(c), office));
}
const NEV = ["mesh.v1.notice.ncb_de", "ncb.de"];

test("co-signed published notice is accepted with its requester", () => {
  const r = open(noticeEvent(), ...NEV);
  assert.equal(r.outcome, "accept", r.detail ?? "");
  assert.deepEqual(r.cosigners.map((c) => [c.office_id, c.role]), [["ncb.fr", "requester"]]);
});
test("GS-only published notice: missing-signer", () => {
  const r = open(noticeEvent((c) => { c.body.request = null; }), ...NEV);
  assert.equal(r.reason, "missing-signer");
});
test("request signature broken: bad-cosignature", () => {
  const r = open(noticeEvent((c) => {
    const p = Buffer.from(c.body.request.payload, "base64");
    p[p.length - 3] ^= 1;
    c.body.request = { ...c.body.request, payload: p.toString("base64") };
  }), ...NEV);
  assert.equal(r.reason, "bad-cosignature");
});
test("request of another notice: cosignature-mismatch", () => {
  const other = structuredClone(reqContent);
  other.body.title = "another request";
  const r = open(noticeEvent((c) => { c.body.request = envelope("application/vnd.interpol-mesh.notice-request.v1+json", JSON.stringify(other), "ncb.fr"); }), ...NEV);
  assert.equal(r.reason, "cosignature-mismatch", r.detail ?? "");
});

test("unknown fields in the carried request envelope and its signature entries are ignored and named", () => {
  const r = open(noticeEvent((c) => {
    c.body.request = { ...c.body.request, x_transport: "relay", signatures: c.body.request.signatures.map((g) => ({ ...g, x_signed_with: "hsm" })) };
  }), ...NEV);
  assert.equal(r.outcome, "accept", r.detail ?? "");
  assert.deepEqual(r.ignoredFields.sort(), ["body.request.signatures.0.x_signed_with", "body.request.x_transport"]);
  assert.deepEqual(r.cosigners.map((c) => c.office_id), ["ncb.fr"]);
  assert.equal("x_transport" in r.body.request, false);
});

test("receipt checks", () => {
  const raw = rd("receipt.json");
  const sent = [{ message_id: "019b8e07-4600-7000-8000-000000000005", recipients: ["ncb.fr", "gs"], digest: sha256hex(rd("hit-report.json")), created_at: "2026-01-05T12:40:00Z" }];
  const v = (state) => ({ name: "r", receiver: "ncb.es", subject: "mesh.v1.direct.ncb_fr.ncb_es", now: NOW, stored_at: null, state, message: raw.toString("base64") });
  const ctx = { keyDirectory: dir };
  assert.equal(decideVector(v({ sent }), ctx).outcome, "accept", decideVector(v({ sent }), ctx).detail);
  assert.equal(decideVector(v({ sent: [{ ...sent[0], digest: "0".repeat(64) }] }), ctx).reason, "receipt-mismatch");
  assert.equal(decideVector(v({ sent: [{ ...sent[0], recipients: ["gs"] }] }), ctx).reason, "receipt-mismatch");
  assert.equal(decideVector(v({ sent, accepted_message_ids: ["019b8e07-4600-7000-8000-000000000006"] }), ctx).reason, "replay");
  assert.equal(decideVector(v({ sent, processing_fails: true }), ctx).reason, "processing-failed");
});

test("a notice event on a direct subject, and a subject naming no office: header-mismatch", () => {
  assert.equal(open(noticeEvent(), "mesh.v1.direct.gs.ncb_de", "ncb.de").reason, "header-mismatch");
  assert.equal(open(rd("diffusion.json"), "mesh.v1.direct.ncb_zz.ncb_fr", "ncb.fr").reason, "header-mismatch");
});

test("a 5-byte signature is a bad signature, not malformed", () => {
  const e = JSON.parse(rd("diffusion.json"));
  e.signatures[0].sig = Buffer.alloc(5, 1).toString("base64");
  assert.equal(open(bytesOf(e), ...DIFF).reason, "bad-signature");
});

test("every example verifies on its subject (the notice event on mesh.v1.notice.<to>)", () => {
  const ex = [
    ["notice-request", "mesh.v1.direct.ncb_fr.gs", "gs"],
    ["notice-event", "mesh.v1.notice.ncb_de", "ncb.de"],
    ["diffusion", "mesh.v1.direct.ncb_de.ncb_fr", "ncb.fr"],
    ["message", "mesh.v1.direct.ncb_es.ncb_fr", "ncb.fr"],
    ["hit-report", "mesh.v1.direct.ncb_es.ncb_fr", "ncb.fr"],
    ["receipt", "mesh.v1.direct.ncb_fr.ncb_es", "ncb.es"],
    ["key-rotation", "mesh.v1.direct.ncb_de.gs", "gs"],
  ];
  for (const [kind, subject, receiver] of ex) {
    const r = open(rd(`${kind}.json`), subject, receiver);
    assert.deepEqual([kind, r.outcome, r.reason], [kind, "accept", null], r.detail ?? "");
  }
});
