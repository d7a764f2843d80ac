// The office's NATS side, with the official `nats` client: one NKey user per office over TLS, replies
// only on the office's own inbox prefix (the server lets an office subscribe to nothing else), the key
// directory read from its stream's last value, publishes that wait for JetStream's PubAck, and the
// office's durable pull consumer, which the mesh's admin provisioned (an office may not create one).

import { readFileSync } from "node:fs";
import { connect, headers, nkeyAuthenticator } from "nats";
import { ClientError, subjectToken } from "./seal.js";

export const KEY_DIRECTORY_SUBJECT = "mesh.v1.keys.directory";

/** Server-side refusals arrive asynchronously (a publish the permissions forbid is dropped, not answered). */
export class BusErrors {
  constructor() {
    this.seen = [];
  }
  async watch(nc) {
    for await (const s of nc.status()) {
      if (s.type === "error") {
        const where = s.permissionContext ? ` (${s.permissionContext.operation} ${s.permissionContext.subject})` : "";
        this.seen.push(`${s.data}${where}`);
      }
    }
  }
  explain() {
    return this.seen.length ? ` (server said: ${this.seen.slice(-3).join("; ")})` : "";
  }
}

function readOrFail(path, what) {
  try {
    return readFileSync(path);
  } catch {
    throw new ClientError("config", `${what} not found: ${path}`);
  }
}

/** Connect as `officeId`; one clear error for a wrong URL, a missing file or refused credentials. */
export async function connectOffice({ natsUrl, officeId, nkeySeedFile, tlsCaFile, timeoutMs = 5000 }) {
  const seed = readOrFail(nkeySeedFile, "NATS NKey seed").toString("utf8").trim();
  const options = {
    servers: natsUrl.split(",").map((s) => s.trim()).filter(Boolean),
    name: `interpol-mesh node ${officeId}`,
    authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)),
    // Replies (PubAcks, pull batches, API answers) must come to a subject this office may subscribe to.
    inboxPrefix: `_INBOX_${subjectToken(officeId)}`,
    timeout: timeoutMs,
    maxReconnectAttempts: 5,
    reconnectTimeWait: 500,
  };
  if (tlsCaFile) {
    readOrFail(tlsCaFile, "NATS TLS CA file");
    options.tls = { caFile: tlsCaFile };
  }
  try {
    return await connect(options);
  } catch (err) {
    const text = `${err.code ?? ""} ${err.message ?? err}`;
    if (/authoriz/i.test(text)) {
      throw new ClientError("bus", `NATS at ${natsUrl} refused the credentials ${nkeySeedFile}: authorization violation`);
    }
    throw new ClientError("bus", `cannot reach NATS at ${natsUrl}: ${text.trim()}`);
  }
}

/**
 * The last key directory on the bus, as raw signed bytes, from the first of `streams` that has one
 * (an office may read it with STREAM.MSG.GET only, not the stream's info). Null when none holds one
 * yet (the GS publishes it at its start).
 */
export async function lastKeyDirectory(jsm, streams) {
  for (const stream of streams) {
    try {
      const sm = await jsm.streams.getMessage(stream, { last_by_subj: KEY_DIRECTORY_SUBJECT });
      if (sm.data?.length) {
        return Buffer.from(sm.data);
      }
    } catch (err) {
      if (!/no message found|10037/i.test(`${err.message} ${err.api_error?.err_code ?? ""}`)) {
        throw new ClientError("bus", `cannot read the key directory from stream ${stream}: ${err.message}`);
      }
    }
  }
  return null;
}

/** Publish once to `subject` with its Nats-Msg-Id; resolves with the PubAck, or fails with why. */
export async function publishEnvelope(js, subject, data, msgId, errors, timeoutMs = 5000) {
  const h = headers();
  h.set("Nats-Msg-Id", msgId);
  try {
    return await js.publish(subject, data, { headers: h, timeout: timeoutMs });
  } catch (err) {
    throw new ClientError(
      "bus",
      `publish to ${subject} not acknowledged by JetStream: ${err.code ?? ""} ${err.message}`.trim() + errors.explain(),
    );
  }
}

/** The office's provisioned durable consumer (CONSUMER.INFO is the one management call it may make). */
export async function inboxConsumer(js, stream, consumer, errors) {
  try {
    return await js.consumers.get(stream, consumer);
  } catch (err) {
    throw new ClientError(
      "bus",
      `durable consumer ${consumer} on stream ${stream} is not readable: ${err.message}` +
        " (the admin provisions it; check the stream name for this office's bus region)" + errors.explain(),
    );
  }
}

/** When the server stored a message (JetStream metadata): bounds a backdated signing time. */
export function storedAt(msg) {
  const nanos = msg.info?.timestampNanos;
  return typeof nanos === "number" && nanos > 0 ? new Date(Math.floor(nanos / 1e6)) : null;
}
