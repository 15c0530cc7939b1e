// Drive tests/tools/romsim with esptool-js, an independent ROM loader
// client, over the simulator's pty (through ptyport.mjs's Web Serial
// stand-in).
//
//   node esptool_rom.mjs TTY IMAGE OFFSET
//
// Runs: connect (sync + chip detection, no reset lines on a pty), readReg of
// the chip magic and the eFuses (chip description, MAC), a FLASH_BEGIN, the
// flash id via the SPI registers, and a ROM-mode (no stub, uncompressed)
// writeFlash of IMAGE at OFFSET.  Prints one JSON line with what each step
// gave, refusals included.
import fs from "node:fs";
import { openLoader } from "./loader.mjs";

const [tty_path, image_path, offset_arg] = process.argv.slice(2);
const image = new Uint8Array(fs.readFileSync(image_path));
const offset = Number(offset_arg ?? 0);

const { loader, log } = openLoader(tty_path);
const out = {};
// Each step on its own: a refusal is a result here, not the end.
async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name + "_error"] = String(e && e.message ? e.message : e);
  }
}
try {
  await loader.connect("no_reset", 3, true);
  out.chip = loader.chip.CHIP_NAME;
  out.stub = loader.IS_STUB;
  out.magic = (await loader.readReg(0x40001000)) >>> 0;
  out.description = await loader.chip.getChipDescription(loader);
  out.mac = await loader.chip.readMac(loader);
  // esptool's ESP8266 ROM "SPI attach" is a FLASH_BEGIN with nothing to
  // erase; the ROM attaches the flash before it checks the request.
  await step("flash_begin", () => loader.flashBegin(0, 0));
  await step("flash_id", async () => (await loader.readFlashId()) >>> 0);
  await step("written", async () => {
    await loader.writeFlash({
      fileArray: [{ data: image, address: offset }],
      flashMode: "keep",
      flashFreq: "keep",
      flashSize: "keep",
      eraseAll: false,
      compress: false,
    });
    return image.length;
  });
  out.ok = true;
} catch (e) {
  out.ok = false;
  out.error = String(e && e.message ? e.message : e);
  out.log = log.slice(-10);
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
