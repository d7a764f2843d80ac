#!/usr/bin/env node
// Decide every conformance vector of proto-schemas/v1/vectors/ from the contract alone.
// Usage: node verify-vectors.js <proto-schemas/v1 dir> [--json]
// Exit code 1 if any decision differs from the vector's expected outcome and reason.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { verifyKeyDirectory, decideVector } from "./lib/verify.js";
import { Contract } from "./lib/contract.js";
import { parseStrict } from "./lib/strict-json.js";

const args = process.argv.slice(2);
const asJson = args.includes("--json");
const dirArg = args.find((a) => !a.startsWith("--"));
if (!dirArg) {
  console.error("usage: node verify-vectors.js <proto-schemas/v1 dir> [--json]");
  process.exit(2);
}
const v1 = resolve(dirArg);
const vdir = join(v1, "vectors");
const read = (f) => readFileSync(join(vdir, f));

const contract = new Contract(v1);
const keyDirectory = verifyKeyDirectory(read("key-directory.json"), read("trust-anchor.pub").toString("utf8").trim(), { schemaDir: v1 });
const offices = parseStrict(read("offices.json")).offices;
const index = parseStrict(read("index.json"));

const results = [];
let diffs = 0;
for (const file of index.vectors) {
  const vector = parseStrict(read(file));
  let got;
  try {
    got = decideVector(vector, { keyDirectory, offices, contract });
  } catch (e) {
    got = { outcome: "error", reason: null, detail: String(e && e.stack ? e.stack : e) };
  }
  const exp = vector.expected ?? {};
  const problems = [];
  if (got.outcome !== exp.outcome || (got.reason ?? null) !== (exp.reason ?? null)) problems.push("decision");
  if (got.outcome === "accept" && exp.outcome === "accept") {
    if (exp.kind !== undefined && got.kind !== exp.kind) problems.push(`kind ${got.kind}`);
    if (exp.message_id !== undefined && got.header.message_id !== exp.message_id) problems.push("message_id");
    if (exp.ignored_fields !== undefined && JSON.stringify([...got.ignoredFields].sort()) !== JSON.stringify([...exp.ignored_fields].sort())) problems.push(`ignored_fields ${JSON.stringify(got.ignoredFields)}`);
    if (exp.cosigners !== undefined) {
      const norm = (l) => JSON.stringify(l.map((c) => `${c.office_id}|${c.key_id}`).sort());
      if (norm(got.cosigners) !== norm(exp.cosigners)) problems.push(`cosigners ${JSON.stringify(got.cosigners)}`);
    }
  }
  if (problems.length) diffs++;
  results.push({
    name: vector.name ?? file,
    file,
    outcome: got.outcome,
    reason: got.reason ?? null,
    detail: got.detail ?? null,
    expected: { outcome: exp.outcome, reason: exp.reason ?? null },
    ok: problems.length === 0,
    problems,
    kind: got.kind ?? null,
    cosigners: got.cosigners ?? [],
    ignored_fields: got.ignoredFields ?? [],
  });
}

if (asJson) {
  process.stdout.write(`${JSON.stringify({ results }, null, 1)}\n`);
} else {
  for (const r of results) {
    const exp = `${r.expected.outcome}${r.expected.reason ? `/${r.expected.reason}` : ""}`;
    const got = `${r.outcome}${r.reason ? `/${r.reason}` : ""}`;
    console.log(`${r.ok ? "OK  " : "DIFF"} ${r.name}  expected ${exp}  got ${got}${r.ok ? "" : `  (${r.problems.join("; ")}; ${r.detail ?? ""})`}`);
  }
  console.log(`${results.length} vectors: ${results.length - diffs} OK, ${diffs} DIFF`);
}
process.exit(diffs ? 1 : 0);
