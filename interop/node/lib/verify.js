// The interpol-mesh v1 receiver's verification, written from proto-schemas/ alone (README.md
// "Verifying an envelope, step by step", the schemas, asyncapi.yaml, examples/ and vectors/).
// openEnvelope = steps 1-13 then the signer policy; decideVector adds the state checks
// (replay, receipt checks, processing) in the order of the conformance vectors.
import { createHash, createPublicKey, verify as edVerify } from "node:crypto";
import { parseStrict, StrictJsonError } from "./strict-json.js";
import { Contract, jsonType } from "./contract.js";

export const MAX_BYTES = 262144;
export const SKEW_NS = 5n * 60n * 1_000_000_000n;
export const KEY_DIRECTORY_TYPE = "application/vnd.interpol-mesh.key-directory.v1+json";
const PAYLOAD_TYPE = /^application\/vnd\.interpol-mesh\.([^.\s]+)\.v([0-9]+)\+json$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

let defaultContract = null;
/** The contract (schemas) used when none is passed: proto-schemas/v1 of this repository. */
export function contract(schemaDir) {
  if (schemaDir) return new Contract(schemaDir);
  if (!defaultContract) defaultContract = new Contract();
  return defaultContract;
}

export class Refusal extends Error {
  constructor(reason, detail) {
    super(`${reason}: ${detail}`);
    this.reason = reason;
    this.detail = detail;
  }
}
const refuse = (reason, detail) => {
  throw new Refusal(reason, detail);
};

// ---------- primitives ----------

/** Strict standard base64 (RFC 4648 alphabet, padded, canonical) -> Buffer, or null. */
export function b64decode(text) {
  if (typeof text !== "string" || text.length % 4 !== 0 || !B64.test(text)) return null;
  const buf = Buffer.from(text, "base64");
  if (buf.toString("base64") !== text) return null; // non-zero padding bits: two readings
  return buf;
}

export function pae(payloadType, payload) {
  const t = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${t.length} `, "ascii"),
    t,
    Buffer.from(` ${payload.length} `, "ascii"),
    payload,
  ]);
}

const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
export function ed25519Key(rawB64) {
  const raw = b64decode(rawB64);
  if (!raw || raw.length !== 32) return null;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
  } catch {
    return null;
  }
}

export function ed25519Verify(key, message, sig) {
  if (sig.length !== 64) return false; // a signature that is not 64 bytes is a bad signature
  try {
    return edVerify(null, message, key, sig);
  } catch {
    return false;
  }
}

export const sha256hex = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** RFC 3339 text -> BigInt nanoseconds since the epoch (null if not a valid instant with offset).
 *  Digits after the sixth of the fraction are dropped (README, "Strict JSON": times are compared at
 *  microsecond precision), so two readers agree at every boundary. */
export function instant(text) {
  if (typeof text !== "string") return null;
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return null;
  if (h > 23 || mi > 59 || s > 59) return null; // no leap second: 23:59:60 is not an instant here
  let offMin = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offMin = (oh * 60 + om) * (m[9] === "-" ? -1 : 1);
  }
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const frac = BigInt((m[7] ?? "").slice(0, 6).padEnd(9, "0") || "0");
  return BigInt(ms) * 1_000_000n + frac - BigInt(offMin) * 60_000_000_000n;
}

export const officeToken = (office) => office.replaceAll(".", "_");

/** One reading of `bytes` or `malformed`; `fractional` (optional array) collects numbers written with a fraction or exponent. */
function readJson(bytes, what, fractional) {
  try {
    return parseStrict(bytes, { fractional });
  } catch (e) {
    if (e instanceof StrictJsonError) refuse("malformed", `${what} has no one reading as JSON: ${e.message}`);
    throw e;
  }
}

const isPlainObject = (v) => jsonType(v) === "object";

/** Error text if a number under content[part] is written with a fraction or exponent where `file` wants an integer, else null. */
function integerAsFloat(c, file, content, part, fractional) {
  const paths = fractional.filter((p) => p[0] === part).map((p) => p.slice(1));
  const at = c.integerWrittenAsFloat(file, content[part], paths);
  return at === null ? null : `${file}: ${part}.${at} is an integer field written with a fraction or exponent`;
}

/** Step 2 shape: exactly payloadType/payload/signatures, signatures exactly keyid/sig, base64, no id twice. */
function envelopeShape(env, what = "envelope") {
  if (!isPlainObject(env)) refuse("malformed", `${what} is not a JSON object`);
  const keys = Object.keys(env).sort().join(",");
  if (keys !== "payload,payloadType,signatures") refuse("malformed", `${what} must have exactly payloadType, payload, signatures (has ${Object.keys(env).join(", ")})`);
  if (typeof env.payloadType !== "string") refuse("malformed", `${what} payloadType is not a string`);
  const payload = b64decode(env.payload);
  if (payload === null) refuse("malformed", `${what} payload is not standard padded base64`);
  if (!Array.isArray(env.signatures) || env.signatures.length === 0) refuse("malformed", `${what} signatures is not a non-empty list`);
  const seen = new Set();
  const sigs = env.signatures.map((s, i) => {
    if (!isPlainObject(s) || Object.keys(s).sort().join(",") !== "keyid,sig") refuse("malformed", `${what} signature ${i} must have exactly keyid and sig`);
    if (typeof s.keyid !== "string") refuse("malformed", `${what} signature ${i} keyid is not a string`);
    const sig = b64decode(s.sig);
    if (sig === null) refuse("malformed", `${what} signature ${i} sig is not standard padded base64`);
    if (seen.has(s.keyid)) refuse("malformed", `${what} key id ${s.keyid} listed twice`);
    seen.add(s.keyid);
    return { keyid: s.keyid, sig };
  });
  return { payloadType: env.payloadType, payload, sigs };
}

// ---------- key directory ----------

/**
 * Verify a key directory envelope against the trust anchor (base64 raw Ed25519 key) before parsing its
 * payload, then parse it with one reading and validate it strictly. Throws Refusal; returns
 * {version, issued_at, keys, byKeyId: Map}.
 */
export function verifyKeyDirectory(rawBytes, trustAnchorB64, { schemaDir } = {}) {
  const c = contract(schemaDir);
  const bytes = Buffer.from(rawBytes);
  if (bytes.length > MAX_BYTES) refuse("oversized", `key directory envelope is ${bytes.length} bytes`);
  const env = envelopeShape(readJson(bytes, "key directory envelope"), "key directory envelope");
  if (env.payloadType !== KEY_DIRECTORY_TYPE) refuse("unsupported-type", `payload type ${env.payloadType} is not the key directory's`);
  const anchor = ed25519Key(String(trustAnchorB64).trim());
  if (!anchor) throw new Error("trust anchor is not a base64 raw Ed25519 public key");
  const message = pae(env.payloadType, env.payload);
  if (!env.sigs.some((s) => ed25519Verify(anchor, message, s.sig))) refuse("bad-signature", "no signature of the key directory verifies with the trust anchor");
  const fractional = [];
  const doc = readJson(env.payload, "key directory payload", fractional);
  const err = c.check("key-directory.schema.json", doc);
  if (err) refuse("malformed", err);
  const asFloat = c.integerWrittenAsFloat("key-directory.schema.json", doc, fractional);
  if (asFloat) refuse("malformed", `key directory ${asFloat} is an integer written with a fraction or exponent`);
  const byKeyId = new Map();
  for (const k of doc.keys) {
    if (byKeyId.has(k.key_id)) refuse("malformed", `key id ${k.key_id} listed twice in the directory`);
    const key = ed25519Key(k.public_key);
    if (!key) refuse("malformed", `key ${k.key_id} public_key is not a base64 raw Ed25519 key`);
    for (const f of ["valid_from", "valid_until", "revoked_from"]) {
      if (k[f] != null && instant(k[f]) === null) refuse("malformed", `key ${k.key_id} ${f} is not an RFC 3339 time with offset`);
    }
    byKeyId.set(k.key_id, {
      ...k,
      key,
      validFrom: instant(k.valid_from),
      validUntil: k.valid_until == null ? null : instant(k.valid_until),
      revokedFrom: k.revoked_from == null ? null : instant(k.revoked_from),
    });
  }
  const offices = [...new Set(doc.keys.map((k) => k.office_id))].sort();
  return { version: doc.version, issued_at: doc.issued_at, keys: doc.keys, byKeyId, offices };
}

// ---------- subject ----------

/**
 * mesh.v1.direct.<sender>.<recipient>, mesh.v1.notice.<recipient> (sender: the GS), mesh.v1.search.<sender>
 * or a reply subject _INBOX_<requester>.<…> (sender: the GS). A token is an
 * office id as itself if that is an office, else with its first "_" turned into "." (vectors/README.md).
 */
function subjectSender(subject, offices) {
  const t = String(subject ?? "").split(".");
  let family = null;
  let token = null;
  if (t.length === 5 && t[0] === "mesh" && t[1] === "v1" && t[2] === "direct") [family, token] = ["direct", t[3]];
  else if (t.length === 4 && t[0] === "mesh" && t[1] === "v1" && t[2] === "notice") [family, token] = ["notice", "gs"];
  else if (t.length === 4 && t[0] === "mesh" && t[1] === "v1" && t[2] === "search") [family, token] = ["search", t[3]];
  // a reply subject _INBOX_<requester>.<one or more tokens>: its one sender is the search responder, the GS
  else if (t.length >= 2 && t[0].startsWith("_INBOX_") && t[0].length > "_INBOX_".length && t.every((x) => x.length > 0)) [family, token] = ["reply", "gs"];
  let office = null;
  if (token !== null) {
    if (offices.has(token)) office = token;
    else if (offices.has(token.replace("_", "."))) office = token.replace("_", ".");
  }
  return { family, token, office };
}

// Step 15: the one subject family of each kind; every kind not listed travels on mesh.v1.direct.<from>.<to>.
// A search and its result are core NATS request/reply, never stored: never on an inbox (direct/notice) subject.
const FAMILY_OF_KIND = { "notice-event": "notice", "search-request": "search", "search-result": "reply" };

// ---------- the envelope ----------

/**
 * Steps 1-13 of proto-schemas/README.md in order, then the kind's signer policy.
 * ctx: {subject, receiver, keyDirectory (from verifyKeyDirectory), offices: [ids], now: RFC 3339, storedAt}
 */
export function openEnvelope(rawBytes, ctx) {
  try {
    return { outcome: "accept", reason: null, detail: null, ...open(Buffer.from(rawBytes), ctx) };
  } catch (e) {
    if (e instanceof Refusal) return { outcome: "refuse", reason: e.reason, detail: e.detail, header: null, body: null, cosigners: [], ignoredFields: [] };
    throw e;
  }
}

function open(bytes, ctx) {
  const c = ctx.contract ?? contract(ctx.schemaDir);
  const dir = ctx.keyDirectory;
  const offices = new Set(ctx.offices ?? [...dir.byKeyId.values()].map((k) => k.office_id));
  const now = instant(ctx.now);
  if (now === null) throw new Error(`now ${ctx.now} is not an RFC 3339 time with offset`);

  // 1
  if (bytes.length > MAX_BYTES) refuse("oversized", `envelope is ${bytes.length} bytes, over ${MAX_BYTES}`);
  // 2
  const env = envelopeShape(readJson(bytes, "envelope"));
  // 3
  const pt = PAYLOAD_TYPE.exec(env.payloadType);
  if (pt && pt[2] !== "1") refuse("unsupported-version", `payload type ${env.payloadType} is not major version 1`);
  if (!pt || !c.kinds.includes(pt[1])) refuse("unsupported-type", `payload type ${env.payloadType} is not a v1 kind this receiver knows`);
  const kind = pt[1];
  // 4-6, for each signature in turn
  const subj = subjectSender(ctx.subject, offices);
  const message = pae(env.payloadType, env.payload);
  const signers = [];
  for (const s of env.sigs) {
    const rec = dir.byKeyId.get(s.keyid);
    if (!rec) refuse("unknown-key", `key id ${s.keyid} is not in the key directory (version ${dir.version})`);
    if (subj.office === null) refuse("header-mismatch", `subject ${ctx.subject} names no known office as sender`);
    if (rec.office_id !== subj.office) refuse("wrong-office-key", `key ${s.keyid} belongs to ${rec.office_id}, not to the subject's sender ${subj.office}`);
    if (!ed25519Verify(rec.key, message, s.sig)) refuse("bad-signature", `signature by ${s.keyid} does not verify over PAE(payloadType, payload)`);
    signers.push(rec);
  }
  // 7
  const fractional = [];
  const content = readJson(env.payload, "signed payload", fractional);
  if (!isPlainObject(content) || Object.keys(content).sort().join(",") !== "body,header") refuse("malformed", "signed payload must be exactly {header, body}");
  const herr = c.check("header.schema.json", content.header) ?? integerAsFloat(c, "header.schema.json", content, "header", fractional);
  if (herr) refuse("malformed", `signed header: ${herr}`);
  const header = content.header;
  const created = instant(header.created_at);
  if (created === null) refuse("malformed", "header.created_at is not an RFC 3339 instant");
  const expires = header.expires_at == null ? null : instant(header.expires_at);
  if (header.expires_at != null && expires === null) refuse("malformed", "header.expires_at is not an RFC 3339 instant");
  if (expires !== null && expires <= created) refuse("malformed", "header.expires_at is not after created_at");
  // (a body that is not an object is step 13's: the payload's shape is {header, body}, the body's is its kind's)
  // 8
  if (header.kind !== kind) refuse("header-mismatch", `signed kind ${header.kind} is not the payload type's ${kind}`);
  const senderOffice = subj.office;
  if (header.sender !== senderOffice) refuse("header-mismatch", `signed sender ${header.sender} is not the subject's sender ${senderOffice}`);
  for (const r of header.recipients) if (!offices.has(r)) refuse("header-mismatch", `signed recipient ${r} is not an office of the directory`);
  // 9
  if (!header.recipients.includes(ctx.receiver)) refuse("not-a-recipient", `${ctx.receiver} is not among the signed recipients`);
  // 10
  for (const k of signers) {
    if (k.revokedFrom !== null && k.revokedFrom <= created) refuse("revoked-key", `key ${k.key_id} revoked from ${k.revoked_from}, signed at ${header.created_at}`);
    if (created < k.validFrom || (k.validUntil !== null && created >= k.validUntil)) refuse("key-not-valid-at-signing-time", `key ${k.key_id} valid [${k.valid_from}, ${k.valid_until ?? "∞"}), signed at ${header.created_at}`);
  }
  // 10, continued: the bus's storage time bounds a backdated signature
  const stored = ctx.storedAt == null ? null : instant(ctx.storedAt);
  if (ctx.storedAt != null && stored === null) throw new Error(`stored_at ${ctx.storedAt} is not an RFC 3339 time with offset`);
  if (stored !== null) {
    for (const k of signers) {
      if (k.revokedFrom !== null && stored >= k.revokedFrom) refuse("revoked-key", `key ${k.key_id} revoked from ${k.revoked_from}; the bus stored the message at ${ctx.storedAt}`);
      if (k.validUntil !== null && stored >= k.validUntil + SKEW_NS) refuse("key-not-valid-at-signing-time", `key ${k.key_id} valid until ${k.valid_until}; the bus stored the message at ${ctx.storedAt}, more than 5 minutes later`);
    }
  }
  // 11
  if (created - now > SKEW_NS) refuse("from-the-future", `created_at ${header.created_at} is more than 5 minutes after ${ctx.now}`);
  // 12
  if (expires !== null && expires <= now) refuse("expired", `expired at ${header.expires_at}`);
  // 13
  const berr = c.check(`${kind}.schema.json`, content.body) ?? integerAsFloat(c, `${kind}.schema.json`, content, "body", fractional);
  if (berr) refuse("schema-invalid", berr);

  const h = c.unknownFields("header.schema.json", header, "header");
  const b = c.unknownFields(`${kind}.schema.json`, content.body, "body");
  const result = {
    header: h.stripped,
    body: b.stripped,
    kind,
    signers: signers.map((k) => ({ office_id: k.office_id, key_id: k.key_id })),
    cosigners: [],
    ignoredFields: [...h.found, ...b.found],
    digest: sha256hex(bytes),
  };
  // signer policy, after step 13
  if (kind === "notice-event") result.cosigners = noticeEventPolicy(c, dir, result.header, result.body);
  // the kind travels on its subject family (vectors/README.md step 15)
  const family = FAMILY_OF_KIND[kind] ?? "direct";
  if (subj.family !== family) refuse("header-mismatch", `a ${kind} travels on the ${family} subject family, not on ${ctx.subject}`);
  return result;
}

// ---------- signer policy: notice-event ----------

// `body` has its unknown fields dropped, also inside body.request: the carried envelope is a body field,
// so its unknown fields (and its signature entries') are ignored; only the outer envelope is exact.
function noticeEventPolicy(c, dir, header, body) {
  if (header.sender !== "gs") refuse("missing-signer", "a notice event is the General Secretariat's decision");
  const request = body.request ?? null;
  if ((body.event === "published" || body.event === "updated") && request === null) refuse("missing-signer", `a ${body.event} notice must carry the requesting office's signed request`);
  if (request === null) return [];
  const office = body.requesting_office;
  // 3: the inner envelope is a good notice request by the requesting office
  let inner;
  try {
    inner = envelopeShape(request, "co-signed request");
  } catch (e) {
    if (e instanceof Refusal) refuse("bad-cosignature", e.detail);
    throw e;
  }
  if (inner.payloadType !== "application/vnd.interpol-mesh.notice-request.v1+json") refuse("bad-cosignature", `co-signed request payload type is ${inner.payloadType}`);
  const message = pae(inner.payloadType, inner.payload);
  const keys = [];
  for (const s of inner.sigs) {
    const rec = dir.byKeyId.get(s.keyid);
    if (!rec) refuse("bad-cosignature", `co-signature key ${s.keyid} is not in the key directory`);
    if (rec.office_id !== office) refuse("bad-cosignature", `co-signature key ${s.keyid} belongs to ${rec.office_id}, not to the requesting office ${office}`);
    if (!ed25519Verify(rec.key, message, s.sig)) refuse("bad-cosignature", `co-signature by ${s.keyid} does not verify`);
    keys.push(rec);
  }
  let content;
  const fractional = [];
  try {
    content = readJson(inner.payload, "co-signed request payload", fractional);
  } catch (e) {
    if (e instanceof Refusal) refuse("bad-cosignature", e.detail);
    throw e;
  }
  if (!isPlainObject(content) || Object.keys(content).sort().join(",") !== "body,header") refuse("bad-cosignature", "co-signed request payload is not exactly {header, body}");
  const herr = c.check("header.schema.json", content.header) ?? integerAsFloat(c, "header.schema.json", content, "header", fractional);
  if (herr) refuse("bad-cosignature", `co-signed request header: ${herr}`);
  const berr = c.check("notice-request.schema.json", content.body) ?? integerAsFloat(c, "notice-request.schema.json", content, "body", fractional);
  if (berr) refuse("bad-cosignature", `co-signed request body: ${berr}`);
  const ih = content.header;
  if (ih.kind !== "notice-request") refuse("bad-cosignature", `co-signed request kind is ${ih.kind}`);
  if (ih.sender !== office) refuse("bad-cosignature", `co-signed request sender ${ih.sender} is not the requesting office ${office}`);
  const at = instant(ih.created_at);
  if (at === null) refuse("bad-cosignature", "co-signed request created_at is not an RFC 3339 instant");
  for (const k of keys) {
    if (k.revokedFrom !== null && k.revokedFrom <= at) refuse("bad-cosignature", `co-signature key ${k.key_id} revoked at the request's signing time`);
    if (at < k.validFrom || (k.validUntil !== null && at >= k.validUntil)) refuse("bad-cosignature", `co-signature key ${k.key_id} not valid at the request's signing time`);
  }
  // 4: it is this notice's request
  if (ih.message_id !== body.notice_id) refuse("cosignature-mismatch", `co-signed request ${ih.message_id} is not notice ${body.notice_id}`);
  if (!(body.requesting_office === body.notice.requesting_office && body.notice.requesting_office === ih.sender)) refuse("cosignature-mismatch", "requesting office differs between the event, its notice and the signed request");
  if (body.notice_type !== body.notice.notice_type) refuse("cosignature-mismatch", `the event says a ${body.notice_type} notice, its notice is ${body.notice.notice_type}`);
  if (!ih.recipients.includes("gs")) refuse("cosignature-mismatch", "the co-signed request was not addressed to the General Secretariat");
  if (at - instant(header.created_at) > SKEW_NS) refuse("cosignature-mismatch", `the co-signed request is signed at ${ih.created_at}, after its publication at ${header.created_at}`);
  const signed = c.unknownFields("notice-request.schema.json", content.body, "request").stripped;
  const left = c.withDefaults("notice-request.schema.json", { ...signed, requesting_office: ih.sender });
  const right = c.withDefaults("notice-request.schema.json", body.notice);
  if (canonical(left) !== canonical(right)) refuse("cosignature-mismatch", "the published notice differs from the signed request");
  return keys.map((k) => ({ office_id: k.office_id, key_id: k.key_id, message_id: ih.message_id, role: "requester" }));
}

function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isPlainObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

// ---------- a conformance vector ----------

/**
 * Decide one vector (proto-schemas/v1/vectors format): openEnvelope, then replay, receipt checks and
 * processing from vector.state. context: {keyDirectory, offices, contract?}. Returns openEnvelope's
 * result with the final outcome/reason.
 */
export function decideVector(vector, context) {
  const bytes = b64decode(vector.message);
  if (bytes === null) throw new Error(`vector ${vector.name}: message is not base64`);
  const r = openEnvelope(bytes, {
    subject: vector.subject,
    receiver: vector.receiver,
    keyDirectory: context.keyDirectory,
    offices: context.offices,
    now: vector.now,
    storedAt: vector.stored_at ?? null,
    contract: context.contract,
  });
  if (r.outcome !== "accept") return r;
  const state = vector.state ?? {};
  const no = (reason, detail) => ({ ...r, outcome: "refuse", reason, detail });
  if ((state.accepted_message_ids ?? []).includes(r.header.message_id)) return no("replay", `message ${r.header.message_id} was already accepted`);
  if (r.kind === "receipt") {
    const why = receiptProblem(r, state.sent ?? [], vector.now);
    if (why) return no("receipt-mismatch", why);
  }
  if (state.processing_fails) return no("processing-failed", "the handler failed on every attempt");
  return r;
}

/**
 * Why an accepted receipt (openEnvelope result of kind "receipt") does not prove delivery, or null.
 * sent: [{message_id, recipients, digest, created_at}] = what this office sent; now: RFC 3339 clock.
 */
export function receiptProblem(r, sent, nowText) {
  const now = instant(nowText);
  const b = r.body;
  const s = sent.find((m) => m.message_id === b.for_message_id);
  if (!s) return `receipt for ${b.for_message_id}, which this office did not send`;
  if (!(s.recipients ?? []).includes(r.header.sender)) return `message ${b.for_message_id} was not sent to ${r.header.sender}`;
  if (s.digest !== b.digest) return `receipt digest ${b.digest} is not that of the envelope sent (${s.digest})`;
  const at = instant(b.at);
  const created = instant(s.created_at);
  if (at === null || created === null) return "receipt time unreadable";
  if (at < created - SKEW_NS) return `receipt at ${b.at} is more than 5 minutes before the message was created (${s.created_at})`;
  if (at - now > SKEW_NS) return `receipt at ${b.at} is more than 5 minutes after the receiver's clock`;
  return null;
}
