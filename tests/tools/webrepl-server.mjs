// A WebREPL server for the tests: the protocol of facts section 10 (as
// MicroPython's extmod/modwebrepl.c and webrepl.py speak it) in front of a
// real MicroPython 1.27 (the npm WebAssembly build, run in this process).
//
//   node webrepl-server.mjs --mp PATH/micropython.mjs --password PW
//        --port-file FILE [--port N] [--rx-buffer N] [--lifetime S]
//        [--split] [--not-webrepl] [--silent] [--wa-short] [--stats FILE]
//
// Listens on 127.0.0.1 only (port 0: any free port, written to
// --port-file once MicroPython is up).  Like a board: one client at a
// time (a second one is closed at once), "Password: " in a text frame,
// "\r\nWebREPL connected\r\n>>> " or "\r\nAccess denied\r\n" and close,
// text frames to and from the REPL (nothing is forwarded before the
// login), binary frames for "WA" file requests, a close frame answered
// with a close frame, and a soft reset ends the connection.  Frames from
// the client may be masked or not.
//
// --rx-buffer N models the ESP8266, where WebREPL input lands in the
// UART's 256-byte ring buffer: text bytes beyond N not yet taken by the
// REPL are dropped.  Faults: --split writes every frame one byte at a
// time; --not-webrepl answers as a plain web server; --silent accepts and
// never answers; --wa-short loses the last byte of every file that goes
// through the "WA" protocol, either way (the kind of damage reported as
// micropython#13540).  SIGUSR1 drops the connection after 3000 more bytes from
// the client, SIGUSR2 stalls it (nothing read or sent any more) after 3000
// more bytes.  The server exits by itself after --lifetime seconds
// (default 900), or on SIGTERM.
import { createHash } from "node:crypto";
import { writeFileSync, renameSync } from "node:fs";
import { createServer } from "node:net";
import { pathToFileURL } from "node:url";

const opt = { port: 0, rxBuffer: 0, lifetime: 900, password: null };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = () => {
        if (i + 1 >= args.length) throw new Error(`${a} needs a value`);
        return args[++i];
    };
    if (a === "--mp") opt.mp = val();
    else if (a === "--password") opt.password = val();
    else if (a === "--port-file") opt.portFile = val();
    else if (a === "--port") opt.port = parseInt(val(), 10);
    else if (a === "--rx-buffer") opt.rxBuffer = parseInt(val(), 10);
    else if (a === "--lifetime") opt.lifetime = parseFloat(val());
    else if (a === "--stats") opt.stats = val();
    else if (a === "--split") opt.split = true;
    else if (a === "--not-webrepl") opt.notWebrepl = true;
    else if (a === "--silent") opt.silent = true;
    else if (a === "--wa-short") opt.waShort = true;
    else throw new Error(`unknown option ${a}`);
}
if (!opt.mp || !opt.portFile || opt.password === null)
    throw new Error("usage: webrepl-server.mjs --mp MJS --password PW --port-file FILE ...");

const stats = { connections: 0, rejected: 0, logins: 0, denied: 0, dropped_rx: 0,
                wa_put: 0, wa_get: 0, resets: 0 };
// Written to a temporary name and renamed: a test reading the file while it
// is rewritten must see the old counts or the new, never an empty file.
function writeStats() {
    if (!opt.stats) return;
    writeFileSync(opt.stats + ".tmp", Object.entries(stats).map(([k, v]) => `${k}=${v}`).join(" ") + "\n");
    renameSync(opt.stats + ".tmp", opt.stats);
}
function quit() { writeStats(); process.exit(0); }
setTimeout(quit, opt.lifetime * 1000);
process.on("SIGTERM", quit);

let client = null; // the logged-in connection, if any
let pendingFault = null; // {kind, after}

// ---- MicroPython -------------------------------------------------------
const { loadMicroPython } = await import(pathToFileURL(opt.mp).href);
const mp = await loadMicroPython({
    heapsize: 1048576,
    linebuffer: false,
    stdout: (data) => { if (client && client.loggedIn) client.sendFrame(0x1, Buffer.from(data)); },
});
mp.replInit();

const queue = [];
let queued = 0, busy = false;
function feed(bytes) {
    let take = bytes.length;
    if (opt.rxBuffer > 0) {
        const room = Math.max(0, opt.rxBuffer - queued);
        if (take > room) { stats.dropped_rx += take - room; take = room; writeStats(); }
    }
    if (take === 0) return;
    queue.push(bytes.subarray(0, take));
    queued += take;
    pump();
}
async function pump() {
    if (busy) return;
    busy = true;
    while (queue.length) {
        const chunk = queue.shift();
        for (let i = 0; i < chunk.length; i++) {
            if (i % 64 === 63) await new Promise((r) => setImmediate(r));
            queued--;
            if (await mp.replProcessCharWithAsyncify(chunk[i])) {
                // A soft reset: the board frees every socket, so the
                // WebREPL connection ends; the REPL starts afresh.
                mp.replInit();
                stats.resets++;
                writeStats();
                if (client) client.end();
            }
        }
    }
    busy = false;
}

// ---- one connection ----------------------------------------------------
class Conn {
    constructor(sock) {
        this.sock = sock;
        this.buf = Buffer.alloc(0);
        this.state = "http";
        this.loggedIn = false;
        this.pw = "";
        this.fromClient = 0;
        this.fault = pendingFault;
        pendingFault = null;
        this.out = [];
        this.sending = false;
        this.lastOpcode = 1;
        this.wa = { hdr: Buffer.alloc(0), op: null };
        sock.setNoDelay(true);
        sock.on("data", (d) => this.onData(d));
        sock.on("close", () => { if (client === this) client = null; writeStats(); });
        sock.on("error", () => {});
    }
    end() {
        this.loggedIn = false;
        if (client === this) client = null;
        this.flush().then(() => this.sock.end());
    }
    write(buf) {
        if (this.stalled) return;
        this.out.push(buf);
        this.drain();
    }
    async drain() {
        if (this.sending) return;
        this.sending = true;
        while (this.out.length && !this.stalled) {
            const b = this.out.shift();
            if (!opt.split) { this.sock.write(b); continue; }
            for (let i = 0; i < b.length && !this.stalled; i++) {
                this.sock.write(b.subarray(i, i + 1));
                await new Promise((r) => setImmediate(r));
            }
        }
        this.sending = false;
    }
    async flush() {
        for (let i = 0; i < 10000 && (this.sending || this.out.length); i++)
            await new Promise((r) => setTimeout(r, 1));
    }
    sendFrame(opcode, payload) {
        const n = payload.length;
        let h;
        if (n < 126) h = Buffer.from([0x80 | opcode, n]);
        else if (n < 65536) h = Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff]);
        else throw new Error("MicroPython never sends frames of 64 KiB");
        this.write(Buffer.concat([h, payload]));
    }
    onData(d) {
        if (this.stalled) return;
        if (this.fault) {
            const before = this.fromClient;
            this.fromClient += d.length;
            if (before < this.fault.after && this.fromClient >= this.fault.after) {
                d = d.subarray(0, this.fault.after - before);
                if (this.fault.kind === "drop") {
                    this.handle(d);
                    this.loggedIn = false;
                    this.sock.destroy();
                    return;
                }
                this.handle(d);
                this.stalled = true;
                this.sock.pause();
                return;
            }
        }
        this.handle(d);
    }
    handle(d) {
        this.buf = Buffer.concat([this.buf, d]);
        if (this.state === "http") {
            const end = this.buf.indexOf("\r\n\r\n");
            if (end < 0) {
                if (this.buf.length > 4096) this.sock.destroy();
                return;
            }
            const head = this.buf.subarray(0, end).toString("latin1");
            this.buf = this.buf.subarray(end + 4);
            this.upgrade(head);
            if (this.state === "http") return;
        }
        this.frames();
    }
    upgrade(head) {
        if (opt.silent) return;
        if (opt.notWebrepl) {
            this.sock.end("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>hello</html>\r\n");
            return;
        }
        let key = null;
        for (const line of head.split("\r\n").slice(1)) {
            const c = line.indexOf(":");
            if (c < 0) { this.sock.destroy(); return; }
            // webrepl's server_handshake matches this name exactly.
            if (line.slice(0, c).trim() === "Sec-WebSocket-Key") key = line.slice(c + 1).trim();
        }
        if (!key) { this.sock.destroy(); return; }
        const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
        this.write(Buffer.from("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
                               `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`, "latin1"));
        this.state = "password";
        this.sendFrame(0x1, Buffer.from("Password: "));
    }
    frames() {
        for (let guard = 0; guard < 100000; guard++) {
            const b = this.buf;
            if (b.length < 2) return;
            const op = b[0] & 0x0f, masked = (b[1] & 0x80) !== 0;
            let len = b[1] & 0x7f, at = 2;
            if (len === 127) { this.sock.destroy(); return; } // the board asserts
            if (len === 126) {
                if (b.length < 4) return;
                len = b.readUInt16BE(2);
                at = 4;
            }
            const mask = masked ? b.subarray(at, at + 4) : null;
            if (masked) at += 4;
            if (b.length < at + len) return;
            const payload = Buffer.from(b.subarray(at, at + len));
            if (mask) for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
            this.buf = b.subarray(at + len);
            if (op === 0x8) {
                this.write(Buffer.from([0x88, 0]));
                this.end();
                return;
            }
            if (op >= 0x8) continue; // pings and pongs: ignored, as on the board
            if (op !== 0) this.lastOpcode = op;
            this.payload(payload);
            if (this.sock.destroyed) return;
        }
    }
    payload(p) {
        if (this.state === "password") {
            for (let i = 0; i < p.length; i++) {
                const c = p[i];
                if (c === 13 || c === 10) {
                    if (this.pw === opt.password) {
                        this.state = "normal";
                        this.loggedIn = true;
                        stats.logins++;
                        writeStats();
                        if (client && client !== this) client.sock.destroy();
                        client = this;
                        this.sendFrame(0x1, Buffer.from("\r\nWebREPL connected\r\n>>> "));
                        if (i + 1 < p.length) this.payload(p.subarray(i + 1));
                    } else {
                        stats.denied++;
                        writeStats();
                        this.sendFrame(0x1, Buffer.from("\r\nAccess denied\r\n"));
                        this.end();
                    }
                    return;
                }
                if (this.pw.length < 10) this.pw += String.fromCharCode(c);
            }
            return;
        }
        if (this.lastOpcode === 0x1) feed(p);
        else this.fileData(p);
    }
    // "WA" requests: "<2sBBQLH64s", then data (PUT) or chunk requests (GET).
    fileData(p) {
        const wa = this.wa;
        let i = 0;
        while (i < p.length && !this.sock.destroyed) {
            if (wa.op === null) {
                const take = Math.min(82 - wa.hdr.length, p.length - i);
                wa.hdr = Buffer.concat([wa.hdr, p.subarray(i, i + take)]);
                i += take;
                if (wa.hdr.length === 82) this.request(wa.hdr);
            } else if (wa.op === 1) {
                const take = Math.min(wa.left, p.length - i);
                const keep = opt.waShort && take === wa.left ? take - 1 : take;
                if (keep > 0) mp.FS.write(wa.fd, p, i, keep);
                wa.left -= take;
                i += take;
                if (wa.left === 0) this.fileDone();
            } else if (wa.op === 2) {
                if (p[i++] !== 0) { this.sock.destroy(); return; }
                const chunk = Buffer.alloc(258);
                let n = mp.FS.read(wa.fd, chunk, 2, 256);
                if (opt.waShort && n > 0 && n < 256) n--;
                chunk.writeUInt16LE(n, 0);
                this.sendFrame(0x2, chunk.subarray(0, 2 + n));
                if (n === 0) this.fileDone();
            }
        }
    }
    request(h) {
        const wa = this.wa;
        const type = h[2], size = h.readUInt32LE(12), nlen = h.readUInt16LE(16);
        const field = h.subarray(18, 82);
        const nul = field.indexOf(0);
        const name = field.subarray(0, nul < 0 ? 64 : nul).toString("utf8");
        // Stricter than the board (which reads the name up to its NUL and
        // ignores the rest): a client that gets these wrong is caught here.
        if (h[0] !== 0x57 || h[1] !== 0x41 || nul < 0 || nul !== nlen) { this.sock.destroy(); return; }
        wa.hdr = Buffer.alloc(0);
        if (type === 3) { this.sendFrame(0x2, Buffer.from([1, 27, 0])); return; }
        try {
            wa.fd = mp.FS.open(name, type === 1 ? "w" : "r");
        } catch (e) {
            // The board's open() raises inside its stream read: dupterm
            // gives up on the connection.
            this.sock.destroy();
            return;
        }
        wa.op = type;
        wa.left = size;
        this.sendFrame(0x2, Buffer.from("WB\0\0", "latin1"));
        if (type === 1) { stats.wa_put++; if (size === 0) this.fileDone(); }
        else stats.wa_get++;
        writeStats();
    }
    fileDone() {
        mp.FS.close(this.wa.fd);
        this.wa.op = null;
        this.sendFrame(0x2, Buffer.from("WB\0\0", "latin1"));
    }
}

process.on("SIGUSR1", () => { const f = { kind: "drop", after: 3000 }; armFault(f); });
process.on("SIGUSR2", () => { const f = { kind: "stall", after: 3000 }; armFault(f); });
function armFault(f) {
    if (client && !client.stalled && !client.sock.destroyed) {
        f.after += client.fromClient;
        client.fault = f;
    } else pendingFault = f;
}

const server = createServer((sock) => {
    stats.connections++;
    if (client && client.stalled) { client.sock.destroy(); client = null; }
    if (client && client.loggedIn && !client.sock.destroyed) {
        // webrepl.py: "Concurrent WebREPL connection ... rejected".
        stats.rejected++;
        writeStats();
        sock.destroy();
        return;
    }
    const c = new Conn(sock);
    if (opt.silent) setTimeout(() => sock.destroy(), 60000).unref();
});
server.listen(opt.port, "127.0.0.1", () => {
    const tmp = opt.portFile + ".tmp";
    writeFileSync(tmp, String(server.address().port) + "\n");
    renameSync(tmp, opt.portFile);
});
