// Upload esptool-js's own ESP8266 flasher stub to tests/tools/romsim with
// esptool-js 0.7.0 (ESPLoader.runStub over ptyport.mjs's Web Serial
// stand-in), as it does before every flash of a real chip.
//
//   node esptool_upload.mjs TTY [DATA_ADDR]
//
// romsim cannot run that stub (it runs only esp01's own, under QEMU), so
// the upload is expected to be accepted block by block and the stub's
// "OHAI" never to come.  Prints one JSON line: the segments esptool-js
// uploads (from the stub json it loads itself), and what runStub gave.
// With DATA_ADDR the same upload is made with esptool-js's memBegin,
// memBlock and memFinish, the data segment moved to DATA_ADDR.
import { getStubJsonByChipName } from "esptool-js/lib/stubFlasher.js";
import { openLoader } from "./loader.mjs";

const [ttyPath, dataAddrArg] = process.argv.slice(2);

const { loader, log } = openLoader(ttyPath);
const out = {};

// runStub's loop, with the addresses given.
async function uploadByHand(stub, segments) {
  const parts = [stub.decodedText, stub.decodedData];
  const block = loader.ESP_RAM_BLOCK;
  for (let i = 0; i < parts.length; i++) {
    const blocks = Math.ceil(parts[i].length / block);
    await loader.memBegin(parts[i].length, blocks, block, segments[i].addr);
    for (let seq = 0; seq < blocks; seq++)
      await loader.memBlock(parts[i].slice(seq * block, (seq + 1) * block), seq);
  }
  await loader.memFinish(stub.entry);
  const reply = await loader.transport.read(loader.DEFAULT_TIMEOUT);
  if (String.fromCharCode(...reply) !== "OHAI") throw new Error("no OHAI");
}
try {
  await loader.connect("no_reset", 3, true);
  out.chip = loader.chip.CHIP_NAME;
  const stub = await getStubJsonByChipName(loader.chip.CHIP_NAME);
  out.entry = stub.entry;
  out.segments = [
    { addr: stub.text_start, len: stub.decodedText.length },
    { addr: stub.data_start, len: stub.decodedData.length },
  ];
  out.ram_block = loader.ESP_RAM_BLOCK;
  try {
    if (dataAddrArg === undefined) {
      await loader.runStub();
    } else {
      out.segments[1].addr = Number(dataAddrArg);
      await uploadByHand(stub, out.segments);
    }
    out.stub_running = true;
  } catch (e) {
    out.stub_running = false;
    out.stub_error = String(e && e.message ? e.message : e);
  }
  out.ok = true;
} catch (e) {
  out.ok = false;
  out.error = String(e && e.message ? e.message : e);
}
out.log = log.slice(-12);
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
