// Runs a Python script on MicroPython 1.27 (WebAssembly build from npm) with
// host directories copied into its filesystem first.
//   node mpy_run.mjs [--put HOSTDIR:MPDIR]... SCRIPT.py
// The script's stdout is passed through; an uncaught exception prints
// "FAIL - SCRIPT: <traceback>" and exits 1.
import { readFileSync, readdirSync, statSync } from "fs";
import { basename, join } from "path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript/micropython.mjs";

const args = process.argv.slice(2);
const puts = [];
let script = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--put") puts.push(args[++i]);
  else script = args[i];
}
if (!script) {
  console.error("usage: node mpy_run.mjs [--put HOSTDIR:MPDIR]... SCRIPT.py");
  process.exit(2);
}

let out = "";
const mp = await loadMicroPython({
  heapsize: 4 * 1024 * 1024,
  linebuffer: false,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});

function mkdirs(path) {
  let cur = "";
  for (const part of path.split("/").filter(Boolean)) {
    cur += "/" + part;
    try { mp.FS.mkdir(cur); } catch (e) { /* exists */ }
  }
}

for (const spec of puts) {
  const [host, dest] = spec.split(":");
  mkdirs(dest);
  for (const name of readdirSync(host)) {
    const p = join(host, name);
    if (statSync(p).isFile()) mp.FS.writeFile(dest + "/" + name, readFileSync(p));
  }
}

try {
  mp.runPython(readFileSync(script, "utf8"));
} catch (e) {
  const msg = String(e.message || e).replace(/\n/g, " | ");
  process.stdout.write(`\nFAIL - ${basename(script)}: ${msg}\n`);
  process.exit(1);
}
