// What the client needs to join a running mesh as one office, from a small JSON file and/or options
// (an option overrides the file). Every missing or wrong value is one clear `config` error.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ClientError, consumerName } from "./seal.js";

const OPTIONS = {
  config: { type: "string" },
  "nats-url": { type: "string" },
  office: { type: "string" },
  to: { type: "string" },
  nkey: { type: "string" },
  key: { type: "string" },
  "trust-anchor": { type: "string" },
  "tls-ca": { type: "string" },
  "inbox-stream": { type: "string" },
  consumer: { type: "string" },
  "key-stream": { type: "string", multiple: true },
  language: { type: "string" },
  title: { type: "string" },
  text: { type: "string" },
  "expect-receipts": { type: "string" },
  "expect-messages": { type: "string" },
  timeout: { type: "string" },
  help: { type: "boolean" },
};

export const USAGE = `usage: node ncb-client.js --config client.json [options]

Joins a running interpol-mesh as one office, sends one signed message to --to, waits for its
receipts and for messages addressed to this office, answers each with a signed delivered receipt,
and prints one JSON summary line. Exit 0 when every expectation was met, 1 on failure or timeout,
2 on a usage or configuration error.

config keys (options override):  nats_url (--nats-url), office_id (--office), peer_id (--to),
  nkey_seed_file (--nkey), signing_key_file (--key), trust_anchor_file (--trust-anchor),
  tls_ca_file (--tls-ca), inbox_stream (--inbox-stream), consumer (--consumer, default inbox_<office>),
  key_directory_streams (--key-stream, default MESH_KEYS), offices (default: the key directory's),
  language (--language, default en), message {title,text,request_for_assistance} (--title, --text),
  expect {receipts: ["delivered","acknowledged"], messages: N} (--expect-receipts a,b --expect-messages N),
  timeout_s (--timeout, default 60)`;

const OFFICE_ID = /^[a-z0-9]+(\.[a-z0-9-]+)?$/;

function required(value, name) {
  if (typeof value !== "string" || value === "") {
    throw new ClientError("config", `missing ${name}`);
  }
  return value;
}

export function loadConfig(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
  } catch (err) {
    throw new ClientError("usage", err.message);
  }
  const o = parsed.values;
  if (o.help) {
    return { help: true };
  }
  let file = {};
  if (o.config) {
    try {
      file = JSON.parse(readFileSync(o.config, "utf8"));
    } catch (err) {
      throw new ClientError("config", `config ${o.config} is not readable JSON: ${err.message}`);
    }
  }
  const officeId = required(o.office ?? file.office_id, "office_id (--office)");
  const peerId = required(o.to ?? file.peer_id, "peer_id (--to)");
  for (const id of [officeId, peerId]) {
    if (!OFFICE_ID.test(id)) {
      throw new ClientError("config", `${JSON.stringify(id)} is not an office id (ncb.fr, rb.nairobi, gs)`);
    }
  }
  if (officeId === peerId) {
    throw new ClientError("config", "peer_id must be another office");
  }
  const expect = file.expect ?? {};
  const receipts = o["expect-receipts"] !== undefined
    ? o["expect-receipts"].split(",").map((s) => s.trim()).filter(Boolean)
    : expect.receipts ?? ["delivered"];
  for (const r of receipts) {
    if (r !== "delivered" && r !== "acknowledged") {
      throw new ClientError("config", `expected receipt ${JSON.stringify(r)} is neither delivered nor acknowledged`);
    }
  }
  const messages = Number(o["expect-messages"] ?? expect.messages ?? 0);
  const timeoutS = Number(o.timeout ?? file.timeout_s ?? 60);
  if (!Number.isInteger(messages) || messages < 0) {
    throw new ClientError("config", "expect.messages must be a whole number");
  }
  if (!(timeoutS > 0)) {
    throw new ClientError("config", "timeout_s must be a positive number of seconds");
  }
  const message = file.message ?? {};
  const offices = file.offices;
  if (offices !== undefined && !(Array.isArray(offices) && offices.every((x) => typeof x === "string"))) {
    throw new ClientError("config", "offices must be a list of office ids");
  }
  return {
    natsUrl: required(o["nats-url"] ?? file.nats_url, "nats_url (--nats-url)"),
    officeId,
    peerId,
    nkeySeedFile: required(o.nkey ?? file.nkey_seed_file, "nkey_seed_file (--nkey)"),
    signingKeyFile: required(o.key ?? file.signing_key_file, "signing_key_file (--key)"),
    trustAnchorFile: required(o["trust-anchor"] ?? file.trust_anchor_file, "trust_anchor_file (--trust-anchor)"),
    tlsCaFile: o["tls-ca"] ?? file.tls_ca_file ?? null,
    inboxStream: required(o["inbox-stream"] ?? file.inbox_stream, "inbox_stream (--inbox-stream), e.g. MESH_DIRECT_EMEA"),
    consumer: o.consumer ?? file.consumer ?? consumerName(officeId),
    keyStreams: o["key-stream"] ?? file.key_directory_streams ?? ["MESH_KEYS"],
    offices: offices ?? null,
    language: o.language ?? file.language ?? "en",
    message: {
      title: o.title ?? message.title ?? `Message from ${officeId}`,
      text: o.text ?? message.text ?? `A signed test message from the national system of ${officeId}.`,
      request_for_assistance: message.request_for_assistance ?? false,
      references: message.references ?? [],
    },
    expect: { receipts, messages },
    timeoutMs: timeoutS * 1000,
  };
}
