#!/usr/bin/env node
// A national system in Node.js that joins a running interpol-mesh as one office, from proto-schemas/:
// it sends one signed message to a peer office, verifies the peer's receipts for it (digest included),
// verifies what is addressed to it, answers each with a signed `delivered` receipt and only then
// acks it on JetStream. One JSON summary line on stdout; progress as JSON lines on stderr.
// `node ncb-client.js --help` lists the options.

import { readFileSync } from "node:fs";
import { BusErrors, connectOffice, inboxConsumer, KEY_DIRECTORY_SUBJECT, lastKeyDirectory, publishEnvelope, storedAt } from "./lib/bus.js";
import { loadConfig, USAGE } from "./lib/config.js";
import { ClientError, directSubject, loadSigner, makeHeader, natsMsgId, seal, sealReceipt } from "./lib/seal.js";
import { instant, openEnvelope, receiptProblem, Refusal, verifyKeyDirectory } from "./lib/verify.js";

const FETCH_BATCH = 16;
const FETCH_EXPIRES_MS = [1000, 5000]; // a long poll returns at the first message; the server wants >= 1 s

function log(event, fields = {}) {
  process.stderr.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/** The newest key directory the trust anchor verifies; a refresh adopts only a higher version. */
class KeyDirectoryView {
  constructor(jsm, streams, trustAnchorB64) {
    this.jsm = jsm;
    this.streams = streams;
    this.anchor = trustAnchorB64;
    this.current = null;
  }

  adopt(raw, where) {
    let dir;
    try {
      dir = verifyKeyDirectory(raw, this.anchor);
    } catch (err) {
      const why = err instanceof Refusal ? `${err.reason}: ${err.detail}` : err.message;
      throw new ClientError("key-directory", `the key directory from ${where} does not verify against the trust anchor (${why})`);
    }
    if (this.current === null || dir.version > this.current.version) {
      this.current = dir;
      log("key-directory", { version: dir.version, keys: dir.keys.length, from: where });
      return true;
    }
    return false;
  }

  /** At start: the last value on the bus; if the GS has not published one yet, the first it publishes. */
  async load(nc, deadline) {
    const sub = nc.subscribe(KEY_DIRECTORY_SUBJECT, { max: 1 });
    try {
      const raw = await lastKeyDirectory(this.jsm, this.streams);
      if (raw !== null) {
        this.adopt(raw, `stream ${this.streams.join("/")}`);
        return;
      }
      log("waiting", { for: `a key directory on ${KEY_DIRECTORY_SUBJECT}` });
      let timer;
      const first = await Promise.race([
        (async () => {
          for await (const m of sub) return Buffer.from(m.data);
          return null;
        })(),
        new Promise((resolve) => {
          timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      if (first === null) {
        throw new ClientError("timeout", `no key directory on ${KEY_DIRECTORY_SUBJECT} (streams ${this.streams.join(", ")}) before the deadline: is the GS running?`);
      }
      this.adopt(first, KEY_DIRECTORY_SUBJECT);
    } finally {
      sub.unsubscribe();
    }
  }

  /** Before calling a key unknown: re-read the last directory once (it may have been listed a moment ago). */
  async refresh() {
    const raw = await lastKeyDirectory(this.jsm, this.streams);
    return raw !== null && this.adopt(raw, `stream ${this.streams.join("/")} (refresh)`);
  }
}

/** Our own key must be listed, ours, and valid now: otherwise every receiver refuses what we sign. */
function checkOwnKey(dir, signer, now) {
  const rec = dir.byKeyId.get(signer.keyId);
  const problem =
    rec === undefined ? "is not listed"
    : rec.office_id !== signer.officeId ? `is listed for ${rec.office_id}`
    : rec.public_key !== signer.publicKeyB64 ? "is listed with another public key"
    : rec.revokedFrom !== null && rec.revokedFrom <= now ? `is revoked from ${rec.revoked_from}`
    : now < rec.validFrom || (rec.validUntil !== null && now >= rec.validUntil) ? "is not valid now"
    : null;
  if (problem !== null) {
    throw new ClientError("key-directory", `our signing key ${signer.keyId} ${problem} in key directory v${dir.version}: receivers would refuse our envelopes`);
  }
}

class Client {
  constructor(cfg, signer) {
    this.cfg = cfg;
    this.signer = signer;
    this.sent = []; // [{message_id, recipients, digest, created_at}]: what receipts are checked against
    this.accepted = new Map(); // message_id -> stream sequence (a redelivery of our own ack is not a replay)
    this.summary = { ok: false, office: cfg.officeId, key_id: signer.keyId, peer: cfg.peerId, key_directory_version: null,
                     sent: null, receipts: [], received: [], refused: [], error: null };
  }

  expectationsMet() {
    const { receipts, messages } = this.cfg.expect;
    const got = new Set(this.summary.receipts.map((r) => r.receipt_type));
    return receipts.every((t) => got.has(t)) && this.summary.received.length >= messages;
  }

  missing() {
    const got = new Set(this.summary.receipts.map((r) => r.receipt_type));
    const want = this.cfg.expect.receipts.filter((t) => !got.has(t)).map((t) => `a verified ${t} receipt from ${this.cfg.peerId}`);
    const n = this.cfg.expect.messages - this.summary.received.length;
    if (n > 0) want.push(`${n} more message(s) addressed to ${this.cfg.officeId}`);
    return want.join(", ");
  }

  async run(nc, errors, deadline) {
    const cfg = this.cfg;
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    this.js = js;
    this.errors = errors;
    this.keys = new KeyDirectoryView(jsm, cfg.keyStreams, readFileSync(cfg.trustAnchorFile, "utf8").trim());
    await this.keys.load(nc, deadline);
    this.summary.key_directory_version = this.keys.current.version;
    checkOwnKey(this.keys.current, this.signer, instant(new Date().toISOString()));
    this.offices = cfg.offices ?? [...new Set(this.keys.current.keys.map((k) => k.office_id))];
    if (!this.offices.includes(cfg.peerId)) {
      throw new ClientError("config", `${cfg.peerId} is not an office of the key directory`);
    }
    // The consumer first: a wrong stream or a missing consumer is reported before anything is sent.
    const consumer = await inboxConsumer(js, cfg.inboxStream, cfg.consumer, errors);
    await this.send();
    while (!this.expectationsMet()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new ClientError("timeout", `timed out after ${cfg.timeoutMs / 1000}s waiting for ${this.missing()}`);
      }
      const expires = Math.min(FETCH_EXPIRES_MS[1], Math.max(FETCH_EXPIRES_MS[0], remaining));
      const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires });
      for await (const m of batch) {
        await this.handle(m);
      }
    }
    this.summary.ok = true;
  }

  async send() {
    const cfg = this.cfg;
    const header = makeHeader({ kind: "message", sender: cfg.officeId, recipients: [cfg.peerId], language: cfg.language });
    const sealed = seal(header, cfg.message, this.signer);
    const subject = directSubject(cfg.officeId, cfg.peerId);
    const msgId = natsMsgId(header.message_id, cfg.peerId);
    const ack = await publishEnvelope(this.js, subject, sealed.data, msgId, this.errors);
    this.sent.push({ message_id: header.message_id, recipients: header.recipients, digest: sealed.digest, created_at: header.created_at });
    this.summary.sent = { message_id: header.message_id, kind: "message", to: cfg.peerId, subject, nats_msg_id: msgId,
                          digest: sealed.digest, bytes: sealed.data.length, stream: ack.stream, seq: ack.seq,
                          duplicate: ack.duplicate };
    log("sent", this.summary.sent);
  }

  verify(m, raw) {
    return openEnvelope(raw, {
      subject: m.subject, receiver: this.cfg.officeId, keyDirectory: this.keys.current, offices: this.offices,
      now: new Date().toISOString(), storedAt: storedAt(m)?.toISOString() ?? null,
    });
  }

  refuse(m, reason, detail, messageId = null) {
    const item = { subject: m.subject, reason, detail, message_id: messageId, stream_seq: m.seq };
    this.summary.refused.push(item);
    log("refused", item);
  }

  /** One inbox message: verify, then record a receipt or answer a message; ack last. */
  async handle(m) {
    const raw = Buffer.from(m.data);
    let r = this.verify(m, raw);
    if (r.outcome === "refuse" && r.reason === "unknown-key" && (await this.keys.refresh())) {
      r = this.verify(m, raw);
    }
    if (r.outcome !== "accept") {
      this.refuse(m, r.reason, r.detail);
      m.ack(); // recorded (summary, log): a refusal is never retried, and the consumer goes on
      return;
    }
    const h = r.header;
    if (this.accepted.has(h.message_id)) {
      if (this.accepted.get(h.message_id) !== m.seq) {
        this.refuse(m, "replay", `message ${h.message_id} already accepted`, h.message_id);
      }
      m.ack(); // else our own earlier handling whose ack was lost: nothing more to do
      return;
    }
    const now = new Date().toISOString();
    if (r.kind === "receipt") {
      const problem = receiptProblem(r, this.sent, now);
      if (problem !== null) {
        this.refuse(m, "receipt-mismatch", problem, h.message_id);
      } else {
        const item = { receipt_type: r.body.receipt_type, for_message_id: r.body.for_message_id, from: h.sender,
                       message_id: h.message_id, key_id: r.signers[0].key_id, digest: r.body.digest,
                       digest_matches: r.body.digest === this.sent.find((s) => s.message_id === r.body.for_message_id).digest,
                       verified: true, at: r.body.at };
        this.summary.receipts.push(item);
        this.accepted.set(h.message_id, m.seq);
        log("receipt", item);
      }
      m.ack();
      return;
    }
    // A message for us: the signed `delivered` receipt must be on the bus before the ack, so an
    // interruption in between redelivers the message rather than losing the receipt.
    const receipt = sealReceipt({ receiptType: "delivered", to: h.sender, messageId: h.message_id, digest: r.digest,
                                  signer: this.signer, language: this.cfg.language });
    const subject = directSubject(this.cfg.officeId, h.sender);
    const ack = await publishEnvelope(this.js, subject, receipt.data, natsMsgId(receipt.header.message_id, h.sender), this.errors);
    this.accepted.set(h.message_id, m.seq);
    const item = { message_id: h.message_id, kind: r.kind, from: h.sender, subject: m.subject, stream_seq: m.seq,
                   key_id: r.signers[0].key_id, digest: r.digest, correlation_id: h.correlation_id ?? null,
                   title: r.body.title ?? null,
                   receipt: { message_id: receipt.header.message_id, receipt_type: "delivered", digest: receipt.digest,
                              for_digest: r.digest, seq: ack.seq } };
    if (!(await m.ackAck())) {
      throw new ClientError("bus", `JetStream did not confirm the ack of ${h.message_id} (it will be redelivered)`);
    }
    this.summary.received.push(item);
    log("received", item);
  }
}

async function main(argv) {
  let cfg;
  try {
    cfg = loadConfig(argv);
  } catch (err) {
    process.stderr.write(`ncb-client: ${err.message}\n${err.code === "usage" ? USAGE + "\n" : ""}`);
    process.stdout.write(`${JSON.stringify({ ok: false, error: err.message, code: err.code ?? "config" })}\n`);
    return 2;
  }
  if (cfg.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const deadline = Date.now() + cfg.timeoutMs;
  let client = null;
  let nc = null;
  try {
    client = new Client(cfg, loadSigner(cfg.signingKeyFile, cfg.officeId));
    nc = await connectOffice(cfg);
    const errors = new BusErrors();
    errors.watch(nc).catch(() => {});
    await client.run(nc, errors, deadline);
  } catch (err) {
    const summary = client?.summary ?? { ok: false };
    summary.ok = false;
    summary.error = err instanceof ClientError ? err.message
      : /permissions violation/i.test(String(err.message))
        ? `NATS refused what ${cfg.officeId} asked with the credentials ${cfg.nkeySeedFile}: ${err.message} (is it this office's own NKey?)`
        : `unexpected: ${err.stack ?? err}`;
    summary.code = err.code ?? "error";
    process.stderr.write(`ncb-client: ${summary.error}\n`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return err.code === "config" || err.code === "usage" ? 2 : 1;
  } finally {
    if (nc !== null) {
      await nc.close().catch(() => {});
    }
  }
  process.stdout.write(`${JSON.stringify(client.summary)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
