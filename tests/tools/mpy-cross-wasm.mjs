// mpy-cross's command line over npm's @pybricks/mpy-cross-v6 (MicroPython's
// own compiler built to WebAssembly), so the --mpy tests run a real
// mpy-cross:
//   node mpy-cross-wasm.mjs --version
//   node mpy-cross-wasm.mjs -o OUT.mpy -s NAME IN.py
// --version reports the .mpy version the compiler really emits (read from
// the header of a compiled one-liner): the package cannot run mpy-cross's
// own --version.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Node's fetch cannot read the .wasm from a file path; without it the
// Emscripten loader reads the file itself.
delete globalThis.fetch;
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "peers", "package.json"));
const { compile } = require("@pybricks/mpy-cross-v6");
const pkg = require("@pybricks/mpy-cross-v6/package.json");

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === "--version") {
  const r = await compile("v.py", "x = 1\n", []);
  if (r.status !== 0 || !r.mpy) {
    console.error(r.err.join("\n"));
    process.exit(1);
  }
  console.log(`mpy-cross (${pkg.name} ${pkg.version}, WebAssembly) emitting mpy v${r.mpy[1]}.${r.mpy[2] & 3}`);
  process.exit(0);
}
let out = null, name = null, input = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "-o") out = args[++i];
  else if (args[i] === "-s") name = args[++i];
  else input = args[i];
}
if (!out || !input) {
  console.error("usage: mpy-cross-wasm.mjs [-o OUT] [-s NAME] IN");
  process.exit(2);
}
const opts = name ? ["-s", name] : [];
const r = await compile(basename(input), readFileSync(input, "utf8"), opts);
for (const line of r.out) console.log(line);
if (r.status !== 0 || !r.mpy) {
  console.error(r.err.join("\n"));
  process.exit(r.status || 1);
}
writeFileSync(out, r.mpy);
