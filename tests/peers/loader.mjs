// esptool-js's ESPLoader on a pty, as the peer scripts use it: the
// terminal's lines kept in `log` for the report, the ROM at 115200.
import { ESPLoader, Transport } from "esptool-js";
import { PtyPort } from "./ptyport.mjs";

export function openLoader(ttyPath, { baudrate = 115200, tracing = false } = {}) {
  const log = [];
  const terminal = {
    clean() {},
    writeLine(s) {
      log.push(s);
    },
    write(s) {
      log.push(s);
    },
  };
  const transport = new Transport(new PtyPort(ttyPath), tracing);
  const loader = new ESPLoader({ transport, baudrate, romBaudrate: 115200, terminal });
  return { transport, loader, log };
}
