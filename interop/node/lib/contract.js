// Loads proto-schemas/v1/*.schema.json into ajv (JSON Schema 2020-12, strict mode, formats) by $id,
// resolving the relative $refs between the files locally (the $ids are names, not addresses).
import { readdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export const BASE = "https://interpol-mesh.example/proto-schemas/v1/";
export const DEFAULT_SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "proto-schemas", "v1");

// Kinds whose body may carry unknown optional fields within v1 (COMMON: header and body accept and
// ignore unknown fields at any depth). The envelope and the key directory stay exact.
const LENIENT = new Set(["header.schema.json"]);

function stripAdditionalFalse(node) {
  if (Array.isArray(node)) return node.map(stripAdditionalFalse);
  if (node && typeof node === "object") {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === "additionalProperties" && v === false) continue;
      out[k] = stripAdditionalFalse(v);
    }
    return out;
  }
  return node;
}

function makeAjv(opts) {
  const ajv = new Ajv2020({ strict: true, allErrors: false, coerceTypes: false, validateFormats: true, ...opts });
  addFormats(ajv);
  for (const kw of ["x-max-bytes", "x-payload-type", "x-unknown-fields"]) ajv.addKeyword({ keyword: kw, schemaType: ["string", "number"] });
  return ajv;
}

export class Contract {
  constructor(schemaDir = DEFAULT_SCHEMA_DIR) {
    this.dir = schemaDir;
    this.raw = new Map(); // file name -> schema as published
    for (const f of readdirSync(schemaDir)) {
      if (f.endsWith(".schema.json")) this.raw.set(f, JSON.parse(readFileSync(join(schemaDir, f), "utf8")));
    }
    this.kinds = JSON.parse(JSON.stringify(this.raw.get("header.schema.json").properties.kind.enum));
    // Message bodies and the header, read the v1 way: unknown fields ignored (lenient copies).
    this.lenientSchemas = new Map();
    for (const [f, s] of this.raw) {
      const lenient = LENIENT.has(f) || this.kinds.includes(f.replace(".schema.json", ""));
      this.lenientSchemas.set(f, lenient ? stripAdditionalFalse(s) : s);
    }
    this.ajv = makeAjv({});
    this.ajvDefaults = makeAjv({ useDefaults: true, strictSchema: false });
    for (const [, s] of this.lenientSchemas) {
      this.ajv.addSchema(s);
      this.ajvDefaults.addSchema(s);
    }
    this.validators = new Map();
  }

  validator(file, { defaults = false } = {}) {
    const key = `${defaults ? "d:" : ""}${file}`;
    if (!this.validators.has(key)) {
      const ajv = defaults ? this.ajvDefaults : this.ajv;
      const v = ajv.getSchema(BASE + file);
      if (!v) throw new Error(`schema ${file} not found in ${this.dir}`);
      this.validators.set(key, v);
    }
    return this.validators.get(key);
  }

  /** Validate strictly; returns null when valid, else a short error text. */
  check(file, data) {
    const v = this.validator(file);
    if (v(data)) return null;
    const e = v.errors[0];
    return `${file}: ${e.instancePath || "/"} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`;
  }

  /** Data with schema defaults filled in (for comparing two readings of the same model). */
  withDefaults(file, data) {
    const copy = structuredClone(data);
    this.validator(file, { defaults: true })(copy);
    return copy;
  }

  /**
   * The fields of `data` that the published schema (`file`) does not declare, at any depth, as
   * dotted paths under `prefix` (array items by index: `body.request.signatures.0.x`); and a copy of
   * `data` without them (what a handler may see).
   */
  unknownFields(file, data, prefix) {
    const found = [];
    const stripped = this.#walk(this.raw.get(file), file, data, prefix, found);
    return { found, stripped };
  }

  /**
   * The first of `paths` (key/index lists into `data`, from parseStrict's `fractional`) where the
   * published schema (`file`) wants an integer, as dotted text; else null. JSON.parse and ajv read
   * `86400.0` as the integer 86400, but the contract writes an integer without fraction or exponent.
   */
  integerWrittenAsFloat(file, data, paths) {
    for (const path of paths) {
      if (this.#wantsInteger(this.raw.get(file), file, data, path)) return path.join(".");
    }
    return null;
  }

  #wantsInteger(schema0, file0, data, path) {
    const [schema, file] = this.#resolve(schema0, file0);
    if (!schema || typeof schema !== "object") return false;
    for (const key of ["anyOf", "oneOf"]) {
      if (schema[key]) {
        // Only a path every branch that could take this value wants as an integer.
        const t = jsonType(data);
        const fits = schema[key].map((b) => this.#resolve(b, file)).filter(([b]) => b && (b.type === undefined || b.type === t || (b.type === "number" && t === "integer")));
        return fits.length > 0 && fits.every(([b, bf]) => this.#wantsInteger(b, bf, data, path));
      }
    }
    if (path.length === 0) return schema.type === "integer";
    const [step, ...rest] = path;
    if (jsonType(data) === "object" && schema.properties && Object.hasOwn(schema.properties, step)) return this.#wantsInteger(schema.properties[step], file, data[step], rest);
    if (jsonType(data) === "array" && schema.items) return this.#wantsInteger(schema.items, file, data[step], rest);
    return false; // an unknown field: ignored, whatever its number
  }

  #resolve(schema, file) {
    let s = schema;
    let f = file;
    for (let guard = 0; s && s.$ref && guard < 20; guard++) {
      const [target, frag] = s.$ref.split("#");
      if (target) f = target;
      let doc = this.raw.get(f);
      if (frag) for (const part of frag.split("/").filter(Boolean)) doc = doc?.[part];
      s = doc;
    }
    return [s, f];
  }

  #walk(schema0, file0, data, path, found) {
    const [schema, file] = this.#resolve(schema0, file0);
    if (!schema || typeof schema !== "object") return data;
    for (const key of ["anyOf", "oneOf"]) {
      if (schema[key]) {
        for (const branch of schema[key]) {
          const [b, bf] = this.#resolve(branch, file);
          const t = jsonType(data);
          if (b && (b.type === undefined || b.type === t || (b.type === "number" && t === "integer"))) return this.#walk(b, bf, data, path, found);
        }
        return data;
      }
    }
    if (jsonType(data) === "object" && schema.properties) {
      const out = {};
      for (const [k, v] of Object.entries(data)) {
        const sub = `${path}.${k}`;
        if (Object.hasOwn(schema.properties, k)) out[k] = this.#walk(schema.properties[k], file, v, sub, found);
        else found.push(sub);
      }
      return out;
    }
    if (jsonType(data) === "array" && schema.items) {
      return data.map((v, i) => this.#walk(schema.items, file, v, `${path}.${i}`, found));
    }
    return data;
  }
}

export function jsonType(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}
