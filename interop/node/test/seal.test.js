// The sealer against the contract's own examples (proto-schemas/v1/examples): the example keys are
// public (seed = sha256("interpol-mesh example key <office>")) and Ed25519 is deterministic, so
// sealing the example's header and body must give the published bytes exactly, byte for byte.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { consumerName, directSubject, loadSigner, newMessageId, pae, seal, sha256Hex } from "../lib/seal.js";
import { openEnvelope, verifyKeyDirectory } from "../lib/verify.js";

const EXAMPLES = new URL("../../../proto-schemas/v1/examples/", import.meta.url);
const example = (name) => readFileSync(new URL(name, EXAMPLES));

function exampleSigner(office) {
  const dir = mkdtempSync(join(tmpdir(), "seal-test-"));
  const path = join(dir, `${office}.key`);
  const seed = createHash("sha256").update(`interpol-mesh example key ${office}`).digest();
  const key = { office_id: office, key_id: `${office}/20260101T000000-example`, seed: seed.toString("base64") };
  writeFileSync(path, JSON.stringify(key), { mode: 0o600 });
  return loadSigner(path, office);
}

for (const [file, office] of [["message.json", "ncb.es"], ["receipt.json", "ncb.fr"]]) {
  test(`sealing ${file}'s header and body reproduces its exact bytes`, () => {
    const published = example(file).subarray(0, -1); // the file ends with one newline that is not part of it
    const envelope = JSON.parse(published);
    const { header, body } = JSON.parse(Buffer.from(envelope.payload, "base64"));
    const sealed = seal(header, body, exampleSigner(office));
    assert.equal(sealed.data.toString("utf8"), published.toString("utf8"));
    assert.equal(sealed.digest, sha256Hex(published));
  });
}

test("the receipt example carries the digest of the hit-report example's bytes", () => {
  const receipt = JSON.parse(example("receipt.json"));
  const { body } = JSON.parse(Buffer.from(receipt.payload, "base64"));
  assert.equal(body.digest, sha256Hex(example("hit-report.json").subarray(0, -1)));
});

test("what the sealer makes, the verifier accepts", () => {
  const dir = verifyKeyDirectory(example("key-directory.json"), example("trust-anchor.pub").toString().trim());
  const now = new Date("2026-01-05T14:00:00Z");
  const header = { message_id: newMessageId(now), kind: "message", sender: "ncb.de", recipients: ["ncb.fr"],
                   created_at: now.toISOString(), expires_at: null, language: "de-DE", priority: "routine",
                   correlation_id: null };
  const sealed = seal(header, { title: "Anfrage – Überprüfung", text: "Bitte bestätigen Sie die Identität." },
                      exampleSigner("ncb.de"));
  const r = openEnvelope(sealed.data, { subject: directSubject("ncb.de", "ncb.fr"), receiver: "ncb.fr",
                                        keyDirectory: dir, now: now.toISOString(), storedAt: null });
  assert.equal(r.outcome, "accept", r.detail);
  assert.equal(r.digest, sealed.digest);
});

test("names: subject tokens keep hyphens, durable names do not; the PAE counts bytes", () => {
  assert.equal(directSubject("lo.new-york", "ncb.fr"), "mesh.v1.direct.lo_new-york.ncb_fr");
  assert.equal(consumerName("lo.new-york"), "inbox_lo_new_york");
  assert.equal(pae("t", Buffer.from("é")).toString(), "DSSEv1 1 t 2 é");
  assert.match(newMessageId(), /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
