// A stand-in for micropython.org in the firmware download tests: Node's own
// HTTP(S) server (an independent HTTP implementation) on 127.0.0.1 only.
//
//   node fwserver.mjs --root DIR --port-file FILE [--https CERT KEY]
//                     [--log FILE] [--lifetime SECONDS]
//
// GET /a/b/ serves DIR/a/b/index.html, GET /a/b serves DIR/a/b.  A request
// in absolute form ("GET http://host/path", what a client sends to an HTTP
// proxy) is served like its path and logged as a proxy request.
// DIR/rules.json (read on every request) maps a path to a misbehaviour:
//   {"status": 500}        that status, a short body
//   {"truncate": N}        the whole file's Content-Length, N bytes, then close
//   {"stall_after": N}     N bytes, then nothing (until the client leaves)
//   {"redirect": "/x"}     302 to /x
//   {"chunked": true}      no Content-Length
// Each request is one JSON line in the log: method, url, user-agent, proxy.
// The server exits by itself after --lifetime seconds (default 60).
import { createServer as createHttp } from "node:http";
import { createServer as createHttps } from "node:https";
import { appendFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, normalize } from "node:path";

const args = process.argv.slice(2);
let root = null, portFile = null, cert = null, key = null, log = null, lifetime = 60;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--root") root = args[++i];
  else if (args[i] === "--port-file") portFile = args[++i];
  else if (args[i] === "--https") { cert = args[++i]; key = args[++i]; }
  else if (args[i] === "--log") log = args[++i];
  else if (args[i] === "--lifetime") lifetime = Number(args[++i]);
}
if (!root || !portFile || !(lifetime > 0)) {
  console.error("usage: node fwserver.mjs --root DIR --port-file FILE [--https CERT KEY] [--log FILE] [--lifetime S]");
  process.exit(2);
}

function rules() {
  const f = join(root, "rules.json");
  return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : {};
}

function handle(req, res) {
  let path = req.url, proxy = false;
  if (/^https?:\/\//i.test(path)) {
    proxy = true;
    path = new URL(path).pathname;
  }
  if (log) appendFileSync(log, JSON.stringify({ method: req.method, url: req.url, ua: req.headers["user-agent"] || "", proxy }) + "\n");
  const rule = rules()[path] || {};
  if (rule.status) { res.writeHead(rule.status, { "Content-Type": "text/plain" }); res.end(`status ${rule.status}\n`); return; }
  if (rule.redirect) { res.writeHead(302, { Location: rule.redirect }); res.end(); return; }
  const rel = normalize(decodeURIComponent(path)).replace(/^(\.\.(\/|$))+/, "");
  let file = join(root, rel);
  if (path.endsWith("/")) file = join(file, "index.html");
  if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found\n");
    return;
  }
  const body = readFileSync(file);
  const type = file.endsWith(".html") ? "text/html; charset=utf-8" : "application/octet-stream";
  if (rule.truncate !== undefined) {
    res.writeHead(200, { "Content-Type": type, "Content-Length": body.length });
    res.write(body.subarray(0, rule.truncate), () => res.socket.destroy());
    return;
  }
  if (rule.stall_after !== undefined) {
    res.writeHead(200, { "Content-Type": type, "Content-Length": body.length });
    res.write(body.subarray(0, rule.stall_after));
    return; // the socket stays open, silent, until the client gives up
  }
  const headers = { "Content-Type": type };
  if (!rule.chunked) headers["Content-Length"] = body.length;
  res.writeHead(200, headers);
  res.end(body);
}

const server = cert
  ? createHttps({ cert: readFileSync(cert), key: readFileSync(key) }, handle)
  : createHttp(handle);
// A TLS client that refuses the certificate is not an error here.
server.on("tlsClientError", () => {});
server.listen(0, "127.0.0.1", () => {
  writeFileSync(portFile + ".tmp", String(server.address().port));
  renameSync(portFile + ".tmp", portFile);
});
setTimeout(() => process.exit(0), lifetime * 1000);
