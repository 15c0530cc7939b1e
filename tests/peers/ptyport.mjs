// PtyPort: the minimal Web Serial port esptool-js uses (open/close,
// readable and writable web streams, setSignals, setBaudRate, getInfo),
// backed by node's tty streams on a pty, for the tests' esptool-js peers.
import fs from "node:fs";
import tty from "node:tty";

export class PtyPort {
  constructor(path) {
    this.path = path;
    this.readable = null;
    this.writable = null;
  }
  getInfo() {
    return {};
  }
  async open() {
    const flags = fs.constants.O_RDWR | fs.constants.O_NOCTTY;
    this.rs = new tty.ReadStream(fs.openSync(this.path, flags));
    this.ws = new tty.WriteStream(fs.openSync(this.path, flags));
    const rs = this.rs;
    this.readable = new ReadableStream({
      start(controller) {
        rs.on("data", (d) => controller.enqueue(new Uint8Array(d)));
        rs.on("close", () => {
          try {
            controller.close();
          } catch {
            /* already closed */
          }
        });
      },
    });
    const ws = this.ws;
    this.writable = new WritableStream({
      write(chunk) {
        return new Promise((resolve, reject) =>
          ws.write(Buffer.from(chunk), (e) => (e ? reject(e) : resolve())),
        );
      },
    });
  }
  // A pty has no line rate; esptool-js changes the rate in place when the
  // port can (as Web Serial can), instead of closing and reopening it.
  async setBaudRate() {}
  async setSignals() {}
  async close() {
    this.rs.destroy();
    this.ws.destroy();
    this.readable = null;
    this.writable = null;
  }
}
