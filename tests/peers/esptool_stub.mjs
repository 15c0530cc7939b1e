// Drive our flasher stub (the QEMU build, stub/) with esptool-js, an
// independent client of esptool's stub protocol, over a pty.
//
//   node esptool_stub.mjs TTY BAUD FILE@OFFSET...
//
// The stub is already running when esptool-js connects, so its SYNC sees
// the stub's value 0 ("Stub is already running") and every command after
// that is a stub command: the flash id through the SPI0 registers
// (readFlashId: READ_REG/WRITE_REG), chip erase (eraseAll), compressed writes of each
// FILE at OFFSET with esptool-js's own MD5 check, a read-back of each file,
// a baud-rate change to BAUD first, and RUN_USER_CODE at the end.  Prints
// one JSON line; the caller compares the flash file with the images.
import crypto from "node:crypto";
import fs from "node:fs";
import { openLoader } from "./loader.mjs";


const [ttyPath, baudArg, ...specs] = process.argv.slice(2);
const files = specs.map((s) => {
  const [path, off] = s.split("@");
  return { data: new Uint8Array(fs.readFileSync(path)), address: Number(off) };
});
const md5 = (image) => crypto.createHash("md5").update(image).digest("hex");

// esptool-js's own trace, kept short, for the report when something fails.
const { transport, loader, log } = openLoader(ttyPath, { baudrate: Number(baudArg), tracing: true });
const traces = [];
transport.trace = (m) => {
  traces.push(m.length > 200 ? m.slice(0, 200) + "..." : m);
  if (traces.length > 40) traces.shift();
};
const out = {};
try {
  await loader.connect("no_reset", 7, true);
  out.chip = loader.chip.CHIP_NAME;
  out.sync_saw_stub = loader.syncStubDetected;
  await loader.runStub();
  out.stub = loader.IS_STUB;
  out.already_running = log.some((l) => /Stub is already running/.test(l));
  out.flash_id = (await loader.readFlashId()) >>> 0;
  await loader.changeBaud();
  out.baud = loader.baudrate;
  out.writes = [];
  const t0 = Date.now();
  await loader.writeFlash({
    fileArray: files,
    flashMode: "keep",
    flashFreq: "keep",
    flashSize: "keep",
    eraseAll: true,
    compress: true,
    calculateMD5Hash: md5,
  });
  out.write_ms = Date.now() - t0;
  out.written = files.map((f) => f.data.length);
  out.md5_verified = log.filter((l) => /Hash of data verified/.test(l)).length;
  out.wrote_lines = log.filter((l) => /^Wrote /.test(l));
  out.readback = [];
  for (const f of files) {
    const t = Date.now();
    const back = await loader.readFlash(f.address, f.data.length);
    out.readback.push({
      same: back.length === f.data.length && Buffer.compare(Buffer.from(back), Buffer.from(f.data)) === 0,
      ms: Date.now() - t,
    });
  }
  await loader.after("soft_reset");
  out.ok = true;
} catch (e) {
  out.ok = false;
  out.error = String(e && e.message ? e.message : e);
  out.log = log.slice(-15);
  out.trace = traces;
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
