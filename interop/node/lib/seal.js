// Sealing outgoing envelopes exactly as proto-schemas/README.md says ("The envelope"): serialise
// {"header":…,"body":…} once, sign those exact bytes with Ed25519 over the DSSE PAE, and publish the
// compact JSON envelope whose SHA-256 every receipt for it must carry.
//
// Only node:crypto; nothing here reads Python. The key file format is the mesh's own
// (`interpol-mesh keys init`): JSON {"office_id","key_id","seed"}, seed = standard base64 of the
// 32-byte Ed25519 seed, mode 0600.

import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto";
import { readFileSync, statSync } from "node:fs";

export const MAX_ENVELOPE_BYTES = 262144;

export const DEFAULT_LIFETIME_MS = 30 * 24 * 3600 * 1000;
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** An error that ends the program with one line; `code` is machine-readable. */
export class ClientError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export function payloadType(kind) {
  return `application/vnd.interpol-mesh.${kind}.v1+json`;
}

/** An office id as one NATS subject token: dots become underscores (ncb.fr -> ncb_fr). */
export function subjectToken(officeId) {
  return officeId.replaceAll(".", "_");
}

/** An office id as a JetStream durable name: [a-z0-9_] only (lo.new-york -> lo_new_york). */
export function identifier(officeId) {
  return subjectToken(officeId).replaceAll("-", "_");
}

export function directSubject(sender, recipient) {
  return `mesh.v1.direct.${subjectToken(sender)}.${subjectToken(recipient)}`;
}

export function consumerName(officeId) {
  return `inbox_${identifier(officeId)}`;
}

/** DSSE pre-authentication encoding; lengths are byte counts in ASCII decimal. */
export function pae(type, payload) {
  const typeBytes = Buffer.from(type, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${typeBytes.length} `, "ascii"),
    typeBytes,
    Buffer.from(` ${payload.length} `, "ascii"),
    payload,
  ]);
}

export function sha256Hex(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/** RFC 3339 UTC text with milliseconds, the form every receiver's strict pattern accepts. */
export function rfc3339(date) {
  return date.toISOString();
}

let lastMs = 0;
let seq = 0;

/** UUIDv7 (RFC 9562), canonical lowercase; ids minted in one process strictly increase. */
export function newMessageId(now = new Date()) {
  let ms = now.getTime();
  if (ms <= lastMs) {
    seq += 1;
    if (seq > 0xfff) {
      lastMs += 1;
      seq = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    seq = 0;
  }
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `<message_id>:<recipient office id>:<random nonce>`: JetStream's de-duplication key for one publish. */
export function natsMsgId(messageId, recipient) {
  return `${messageId}:${recipient}:${randomBytes(8).toString("hex")}`;
}

/**
 * The office's signing key. Refuses a file other users can read (as the mesh's own offices do) and
 * one that belongs to another office than `expectedOffice`.
 */
export function loadSigner(path, expectedOffice) {
  let mode;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    throw new ClientError("config", `signing key not found: ${path}`);
  }
  if (mode & 0o077) {
    throw new ClientError("config", `signing key ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  }
  let file;
  try {
    file = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new ClientError("config", `signing key ${path} is not JSON {"office_id","key_id","seed"}`);
  }
  const seed = typeof file.seed === "string" ? Buffer.from(file.seed, "base64") : Buffer.alloc(0);
  if (typeof file.key_id !== "string" || typeof file.office_id !== "string" || seed.length !== 32) {
    throw new ClientError("config", `signing key ${path} is not a valid interpol-mesh key file`);
  }
  if (file.office_id !== expectedOffice) {
    throw new ClientError("config", `signing key ${path} belongs to ${file.office_id}, not ${expectedOffice}`);
  }
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return {
    keyId: file.key_id,
    officeId: file.office_id,
    publicKeyB64: Buffer.from(spki.subarray(spki.length - 32)).toString("base64"),
    sign: (bytes) => sign(null, bytes, privateKey),
  };
}

/**
 * The signed header, fields in the order of header.schema.json. Every value is one the strict
 * receiver accepts as is: times as RFC 3339 text, recipients distinct, expiry after creation.
 */
export function makeHeader({ kind, sender, recipients, language, now = new Date(), priority = "routine",
                             correlationId = null, lifetimeMs = DEFAULT_LIFETIME_MS }) {
  if (new Set(recipients).size !== recipients.length || recipients.length === 0) {
    throw new ClientError("usage", "recipients must be distinct and at least one");
  }
  return {
    message_id: newMessageId(now),
    kind,
    sender,
    recipients: [...recipients],
    created_at: rfc3339(now),
    expires_at: lifetimeMs === null ? null : rfc3339(new Date(now.getTime() + lifetimeMs)),
    language,
    priority,
    correlation_id: correlationId,
  };
}

/**
 * Sign {header, body} once and return the exact envelope bytes with their digest. The payload is
 * serialised here and never again: receivers verify these bytes, and a receipt's digest is of `data`.
 */
export function seal(header, body, signer) {
  if (signer.officeId !== header.sender) {
    throw new ClientError("usage", `the key of ${signer.officeId} cannot sign for ${header.sender}`);
  }
  const type = payloadType(header.kind);
  const payload = Buffer.from(JSON.stringify({ header, body }), "utf8");
  const signature = signer.sign(pae(type, payload));
  const data = Buffer.from(
    JSON.stringify({
      payloadType: type,
      payload: payload.toString("base64"),
      signatures: [{ keyid: signer.keyId, sig: Buffer.from(signature).toString("base64") }],
    }),
    "utf8",
  );
  if (data.length > MAX_ENVELOPE_BYTES) {
    throw new ClientError("usage", `envelope of ${data.length} bytes exceeds ${MAX_ENVELOPE_BYTES}: every receiver refuses it`);
  }
  return { header, body, data, digest: sha256Hex(data) };
}

/** A `delivered` or `acknowledged` receipt for `messageId`, whose envelope as received hashed to `digest`. */
export function sealReceipt({ receiptType, to, messageId, digest, signer, language, now = new Date() }) {
  const header = makeHeader({ kind: "receipt", sender: signer.officeId, recipients: [to], language, now,
                              correlationId: messageId });
  const body = { receipt_type: receiptType, for_message_id: messageId, digest, at: rfc3339(now) };
  return seal(header, body, signer);
}
