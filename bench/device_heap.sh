#!/usr/bin/env bash
# Heap allocated per thingspeak call, on MicroPython 1.27 (npm WebAssembly
# build) with the test stand-ins for socket and time.  The ESP8266 has
# about 30 KB free after boot; the target is under 2 KB per update cycle.
cd "${SRCDIR:-$(dirname "$0")/..}"
if [ ! -f tests/peers/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs ]; then
    echo "device_heap: npm peer missing: run (cd tests/peers && npm ci)"; exit 1
fi
node tests/peers/mpy_run.mjs --put device:/lib --put tests/device/stubs:/stubs tests/device/heap_bench.py
