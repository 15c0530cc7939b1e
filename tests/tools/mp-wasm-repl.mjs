// MicroPython (WebAssembly build from npm) with its REPL on stdin/stdout,
// so that socat can put it behind a pty and the tests talk to a real
// MicroPython raw REPL.  Bytes are fed one at a time and in order: the
// package's own node entry point does not wait for each character, which
// lets a long paste overtake itself.
//   node mp-wasm-repl.mjs PATH/TO/micropython.mjs [HEAP_BYTES]
import { pathToFileURL } from "node:url";

const { loadMicroPython } = await import(pathToFileURL(process.argv[2]).href);
const heapsize = parseInt(process.argv[3] || "1048576", 10);
const mp = await loadMicroPython({
    heapsize,
    linebuffer: false,
    stdout: (data) => process.stdout.write(data),
});
mp.replInit();

const queue = [];
let busy = false;
async function pump() {
    if (busy) return;
    busy = true;
    while (queue.length) {
        const chunk = queue.shift();
        for (let i = 0; i < chunk.length; i++) {
            // Let node read stdin now and then, as a UART interrupt would
            // while the REPL works; otherwise input waits in the pty.
            if (i % 64 == 63) await new Promise((r) => setImmediate(r));
            // Ctrl-D at the friendly prompt: the port would exit; start a
            // fresh REPL instead, as a board's soft reset does.
            if (await mp.replProcessCharWithAsyncify(chunk[i])) mp.replInit();
        }
    }
    busy = false;
}
if (process.stdin.isTTY) process.stdin.setRawMode(true);
process.stdin.on("data", (data) => { queue.push(data); pump(); });
process.stdin.on("end", () => process.exit(0));
