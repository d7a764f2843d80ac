// A strict JSON reader for the contract's "one reading" rule (proto-schemas/README.md):
// UTF-8 only (invalid bytes refused), no object with the same key twice at any depth, no NaN/Infinity
// (nor a number literal that overflows to Infinity), nothing but JSON whitespace around the value.
// JSON.parse silently keeps the last duplicate key, so it cannot be used on signed bytes.
// It also forgets how a number was written: `86400.0` and `86400` read the same, yet the contract says an
// integer is written without fraction or exponent. The parser can therefore report the paths (key and
// index lists) of every number written with a fraction or exponent, for the schema check to judge.

export class StrictJsonError extends Error {}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decode bytes as UTF-8 (fatal on invalid sequences; a BOM is kept and then refused by the parser). */
export function decodeUtf8(bytes) {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new StrictJsonError("not valid UTF-8");
  }
}

/**
 * Parse bytes (Buffer/Uint8Array) or a string strictly; throws StrictJsonError. If `fractional` (an
 * array) is given, the path of every number written with a fraction or exponent is pushed onto it.
 */
export function parseStrict(input, { fractional } = {}) {
  const text = typeof input === "string" ? input : decodeUtf8(input);
  const p = new Parser(text, fractional);
  p.ws();
  const value = p.value(0);
  p.ws();
  if (p.i !== text.length) p.fail("trailing data after the JSON value");
  return value;
}

const MAX_DEPTH = 200;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class Parser {
  constructor(text, fractional) {
    this.s = text;
    this.i = 0;
    this.fractional = fractional;
    this.path = []; // keys and indices from the root to the value being read
  }

  fail(why) {
    throw new StrictJsonError(`${why} at offset ${this.i}`);
  }

  ws() {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  value(depth) {
    if (depth > MAX_DEPTH) this.fail("nested too deeply");
    const c = this.s[this.i];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    if (c === "t") return this.literal("true", true);
    if (c === "f") return this.literal("false", false);
    if (c === "n") return this.literal("null", null);
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    this.fail(c === undefined ? "unexpected end of input" : `unexpected character ${JSON.stringify(c)}`);
  }

  literal(word, v) {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    this.fail("invalid literal");
  }

  number() {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail("invalid number");
    this.i += m[0].length;
    const v = Number(m[0]);
    if (!Number.isFinite(v)) this.fail("number out of range (would read as Infinity)");
    // I-JSON (RFC 7493 §2.2): an integer beyond ±(2^53-1) is read differently by different readers.
    if (!/[.eE]/.test(m[0]) && !Number.isSafeInteger(v)) this.fail("integer beyond ±(2^53-1)");
    if (this.fractional && /[.eE]/.test(m[0])) this.fractional.push([...this.path]);
    return v;
  }

  string() {
    const s = this.s;
    this.i++; // opening quote
    let out = "";
    let start = this.i;
    for (;;) {
      if (this.i >= s.length) this.fail("unterminated string");
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail("control character in string");
      if (c === 0x5c) {
        out += s.slice(start, this.i);
        this.i++;
        const e = s[this.i];
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" }[e];
        if (simple !== undefined) {
          out += simple;
          this.i++;
        } else if (e === "u") {
          const cu = this.hex4();
          if (cu >= 0xd800 && cu <= 0xdbff) {
            if (s[this.i] !== "\\" || s[this.i + 1] !== "u") this.fail("lone surrogate escape");
            this.i++;
            const lo = this.hex4();
            if (lo < 0xdc00 || lo > 0xdfff) this.fail("lone surrogate escape");
            out += String.fromCharCode(cu, lo);
          } else if (cu >= 0xdc00 && cu <= 0xdfff) {
            this.fail("lone surrogate escape");
          } else {
            out += String.fromCharCode(cu);
          }
        } else {
          this.fail("invalid escape");
        }
        start = this.i;
        continue;
      }
      this.i++;
    }
  }

  hex4() {
    // this.i points at 'u'
    const h = this.s.slice(this.i + 1, this.i + 5);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail("invalid \\u escape");
    this.i += 5;
    return parseInt(h, 16);
  }

  object(depth) {
    this.i++;
    // A null-prototype object: "__proto__" is an ordinary key, never a prototype change.
    const obj = Object.create(null);
    const seen = new Set();
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return normalise(obj);
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail("expected a string key");
      const key = this.string();
      if (seen.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`);
      seen.add(key);
      this.ws();
      if (this.s[this.i] !== ":") this.fail("expected ':'");
      this.i++;
      this.ws();
      this.path.push(key);
      obj[key] = this.value(depth + 1);
      this.path.pop();
      this.ws();
      const c = this.s[this.i];
      if (c === ",") {
        this.i++;
        continue;
      }
      if (c === "}") {
        this.i++;
        return normalise(obj);
      }
      this.fail("expected ',' or '}'");
    }
  }

  array(depth) {
    this.i++;
    const arr = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return arr;
    }
    for (;;) {
      this.ws();
      this.path.push(arr.length);
      arr.push(this.value(depth + 1));
      this.path.pop();
      this.ws();
      const c = this.s[this.i];
      if (c === ",") {
        this.i++;
        continue;
      }
      if (c === "]") {
        this.i++;
        return arr;
      }
      this.fail("expected ',' or ']'");
    }
  }
}

// Give parsed objects an ordinary prototype (ajv and callers expect one) while keeping "__proto__"
// as plain data: define every key as an own property.
function normalise(nullProto) {
  const o = {};
  for (const k of Object.keys(nullProto)) {
    Object.defineProperty(o, k, { value: nullProto[k], enumerable: true, writable: true, configurable: true });
  }
  return o;
}
