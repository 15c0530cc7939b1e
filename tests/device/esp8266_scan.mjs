// Static check of on-device modules for what MicroPython's ESP8266 port
// lacks, and for source too large to compile on its 38 KB heap.
//   node esp8266_scan.mjs [--max BYTES] FILE.py...
// Prints "FILE:LINE: why" for each finding and exits 1 if there is one.
// The source is tokenized (comments, every string form, triple quotes,
// line continuations) so that names in comments and strings do not count.
import { readFileSync } from "fs";

// Attribute names (obj.NAME) the port has no method for.
const MISSING_ATTRS = new Map([
  ["partition", "str.partition"], ["rpartition", "str.rpartition"],
  ["splitlines", "str.splitlines"], ["center", "str.center"],
  ["ljust", "str.ljust"], ["rjust", "str.rjust"], ["zfill", "str.zfill"],
  ["expandtabs", "str.expandtabs"], ["swapcase", "str.swapcase"], ["title", "str.title"],
  ["casefold", "str.casefold"], ["format_map", "str.format_map"],
  ["translate", "str.translate"], ["maketrans", "str.maketrans"],
  ["removeprefix", "str.removeprefix"], ["removesuffix", "str.removesuffix"],
  ["md5", "hashlib.md5"], ["crc32", "binascii.crc32"], ["isclose", "math.isclose"],
]);
// Names the port lacks wherever they appear (builtins, or imported names).
const MISSING_NAMES = new Map([
  ["setattr", "setattr()"], ["delattr", "delattr()"], ["compile", "compile()"],
  ["execfile", "execfile()"], ["complex", "complex numbers"],
  ["NotImplemented", "NotImplemented"], ["__file__", "__file__"],
  ["md5", "hashlib.md5"], ["crc32", "binascii.crc32"], ["isclose", "math.isclose"],
]);
// module.NAME (or `from module import NAME`) the port leaves out: its
// mpconfigport.h turns off math constants and special functions and
// random's extra functions.
const MISSING_IN = new Map([
  ["math", new Set(["inf", "nan", "tau", "erf", "erfc", "gamma", "lgamma", "factorial", "isclose"])],
  ["random", new Set(["randint", "randrange", "choice", "uniform", "random"])],
  ["binascii", new Set(["crc32"])],
  ["hashlib", new Set(["md5"])],
]);

function tokenize(src) {
  const toks = [];
  let i = 0, line = 1;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === "\n") { line++; i++; continue; }
    if (c === " " || c === "\t" || c === "\r" || c === "\f") { i++; continue; }
    if (c === "\\" && src[i + 1] === "\n") { line++; i += 2; continue; }
    if (c === "#") { while (i < n && src[i] !== "\n") i++; continue; }
    // String literal, with an optional prefix of up to two letters.
    const m = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(src.slice(i, i + 5));
    if (m && (m[1] === "" || /^[a-zA-Z_]/.test(src[i]))) {
      const prefix = m[1].toLowerCase(), q = m[2], start = line;
      const raw = prefix.includes("r");
      i += m[0].length;
      for (;;) {
        if (i >= n) throw new Error(`line ${start}: unterminated string`);
        if (src[i] === "\\" && !raw) { if (src[i + 1] === "\n") line++; i += 2; continue; }
        if (src[i] === "\\" && raw) { i += 2; continue; }
        if (src.startsWith(q, i)) { i += q.length; break; }
        if (src[i] === "\n") {
          if (q.length === 1) throw new Error(`line ${line}: newline in string`);
          line++;
        }
        i++;
      }
      toks.push({ kind: "str", prefix, line: start });
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 200));
    if (id) { toks.push({ kind: "name", text: id[0], line }); i += id[0].length; continue; }
    const num = /^[0-9][0-9a-zA-Z_.]*/.exec(src.slice(i, i + 100));
    if (num) {
      toks.push({ kind: "num", line, imag: /^[0-9][0-9_.]*(e[+-]?[0-9_]+)?[jJ]$/i.test(num[0]) });
      i += num[0].length;
      continue;
    }
    toks.push({ kind: "op", text: c, line });
    i++;
  }
  return toks;
}

export function scan(src, max) {
  const out = [];
  const size = Buffer.byteLength(src, "utf8");
  if (size >= max) out.push([1, `${size} bytes of source, over ${max}: too big to compile on the device (ship it as .mpy or split it)`]);
  let toks;
  try { toks = tokenize(src); } catch (e) { out.push([0, `cannot tokenize: ${e.message}`]); return out; }
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.kind === "str" && t.prefix.includes("f"))
      out.push([t.line, "f-string: not in every ESP8266 build from v1.19; use % formatting"]);
    if (t.kind === "num" && t.imag)
      out.push([t.line, "complex numbers are missing on the ESP8266 port"]);
    if (t.kind !== "name") continue;
    const prev = toks[k - 1];
    // from MODULE import a, (b, c): the names imported.
    if (t.text === "from" && toks[k + 1] && MISSING_IN.has(toks[k + 1].text) &&
        toks[k + 2] && toks[k + 2].text === "import") {
      const missing = MISSING_IN.get(toks[k + 1].text);
      let depth = 0;
      for (let j = k + 3; j < toks.length; j++) {
        const u = toks[j];
        if (u.kind === "op" && u.text === "(") depth++;
        else if (u.kind === "op" && u.text === ")") depth--;
        else if (u.line !== t.line && depth <= 0) break;
        else if (u.kind === "name" && missing.has(u.text) && !MISSING_NAMES.has(u.text))
          out.push([u.line, `${toks[k + 1].text}.${u.text} is missing on the ESP8266 port`]);
      }
    }
    const qual = toks[k - 2];
    if (prev && prev.kind === "op" && prev.text === "." && qual && qual.kind === "name" &&
        MISSING_IN.has(qual.text) && MISSING_IN.get(qual.text).has(t.text) &&
        !MISSING_ATTRS.has(t.text)) {
      out.push([t.line, `${qual.text}.${t.text} is missing on the ESP8266 port`]);
      continue;
    }
    const isAttr = prev && prev.kind === "op" && prev.text === ".";
    const isDef = prev && prev.kind === "name" && (prev.text === "def" || prev.text === "class");
    if (isDef) continue;
    if (isAttr && MISSING_ATTRS.has(t.text))
      out.push([t.line, `${MISSING_ATTRS.get(t.text)} is missing on the ESP8266 port`]);
    else if (!isAttr && MISSING_NAMES.has(t.text))
      out.push([t.line, `${MISSING_NAMES.get(t.text)} is missing on the ESP8266 port`]);
  }
  return out;
}

const args = process.argv.slice(2);
let max = 6144;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--max") max = Number(args[++i]);
  else files.push(args[i]);
}
if (!files.length) {
  console.error("usage: node esp8266_scan.mjs [--max BYTES] FILE.py...");
  process.exit(2);
}
let found = 0;
for (const f of files) {
  for (const [line, why] of scan(readFileSync(f, "utf8"), max)) {
    console.log(`${f}:${line}: ${why}`);
    found++;
  }
}
process.exit(found ? 1 : 0);
