// Records what Node's own HTTP server (an independent HTTP/1.1
// implementation) sends for ThingSpeak-like answers, byte for byte, so the
// device tests can replay real framings: Content-Length, chunked, and the
// close-delimited reply a server gives an HTTP/1.0 client.
//   node http_replies.mjs OUTDIR
import { createServer } from "http";
import { connect } from "net";
import { mkdirSync, writeFileSync } from "fs";
import { join } from "path";

const out = process.argv[2];
if (!out) {
  console.error("usage: node http_replies.mjs OUTDIR");
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const feeds = JSON.stringify({
  channel: { id: 1417, name: "ESP-01 logger", field1: "Temperature", last_entry_id: 42 },
  feeds: [
    { created_at: "2026-11-23T19:56:02Z", entry_id: 41, field1: "21.4" },
    { created_at: "2026-11-23T19:57:02Z", entry_id: 42, field1: "21.5" },
  ],
});

// name -> [request line HTTP version, handler]
const cases = {
  "length-1234": ["1.1", (res) => { res.setHeader("Content-Type", "text/plain; charset=utf-8"); res.end("1234"); }],
  "chunked-5678": ["1.1", (res) => { res.setHeader("Content-Type", "text/plain"); res.write("56"); res.write("7"); res.end("8"); }],
  "http10-close-4321": ["1.0", (res) => { res.write("43"); res.end("21"); }],
  "zero": ["1.1", (res) => { res.end("0"); }],
  "status-400": ["1.1", (res) => { res.statusCode = 400; res.end("0"); }],
  "status-500": ["1.1", (res) => { res.statusCode = 500; res.write("<html>"); res.end("oops</html>"); }],
  "feeds-chunked": ["1.1", (res) => {
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.write(feeds.slice(0, 100)); res.end(feeds.slice(100));
  }],
};

const server = createServer((req, res) => cases[req.url.slice(1)][1](res));
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;

for (const [name, [ver]] of Object.entries(cases)) {
  const bytes = await new Promise((resolve, reject) => {
    const chunks = [];
    const s = connect(port, "127.0.0.1", () => {
      const close = ver === "1.1" ? "Connection: close\r\n" : "";
      s.write(`GET /${name} HTTP/${ver}\r\nHost: 127.0.0.1:${port}\r\n${close}\r\n`);
    });
    s.on("data", (d) => chunks.push(d));
    s.on("end", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
  });
  writeFileSync(join(out, name), bytes);
}
server.close();
