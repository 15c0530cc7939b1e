# esp01 build --mpy with a real mpy-cross: MicroPython's compiler built to
# WebAssembly (npm @pybricks/mpy-cross-v6) behind tests/tools/mpy-cross-
# wasm.mjs, which gives it mpy-cross's command line.  The .mpy files taken
# back out of the image then run the on-device modules' own tests on
# MicroPython 1.27 (WebAssembly), imported as bytecode.
. "$SRCDIR/tests/lib.sh"
cd "$TMP" || exit 1
PEERS=$SRCDIR/tests/peers/node_modules
if ! command -v node >/dev/null || [ ! -d "$PEERS/@pybricks/mpy-cross-v6" ] ||
   [ ! -d "$PEERS/@micropython/micropython-webassembly-pyscript" ]; then
    skip "--mpy with a real mpy-cross" "node or the npm peers are missing (tests/install-deps.sh)"
    finish
fi
mkdir -p bin
printf '#!/bin/sh\nexec node "%s/tests/tools/mpy-cross-wasm.mjs" "$@"\n' "$SRCDIR" > bin/mpy-cross
chmod +x bin/mpy-cross
"$TOOLS/mkfw" --variant 1M fw.bin >/dev/null
cp -r "$SRCDIR/examples/thingspeak-logger" logger
rm -f logger/config.json

expect_ok "mpy-cross --version (the wrapper)" bin/mpy-cross --version
check "it says the .mpy version it emits" grep -Eq 'emitting mpy v6\.[0-9]$' out
PATH="$TMP/bin:$PATH" expect_ok "build --mpy with the real mpy-cross" \
    "$ESP01" build logger --firmware fw.bin -o m.bin --mpy
check "report: two modules compiled" grep -Eq '^bytecode:   2 files compiled to .mpy v6\.[0-9] by mpy-cross' out
expect_ok "extract the image" "$ESP01" fs extract m.bin m
check "modules are .mpy, main.py stays source" \
    test -f m/lib/thingspeak.mpy -a -f m/lib/wifitools.mpy -a ! -e m/lib/thingspeak.py -a -f m/main.py
check ".mpy header: 'M', version 6" test "$(head -c 2 m/lib/wifitools.mpy | od -An -c | tr -d ' ')" = 'M006'
check "real bytecode, not the source" sh -c "! grep -q 'def ' m/lib/thingspeak.mpy"

# The .mpy files load and pass the modules' tests.
printf 'import sys\nsys.path.insert(0, "/lib")\nsys.path.insert(0, "/stubs")\nimport thingspeak, wifitools\nprint(thingspeak.__file__, wifitools.__file__)\n' > which.py
( cd "$SRCDIR" && node tests/peers/mpy_run.mjs --put "$TMP/m/lib:/lib" --put tests/device/stubs:/stubs \
    "$TMP/which.py" ) > which.out 2>&1
check "MicroPython imports the .mpy files" grep -q '^/lib/thingspeak.mpy /lib/wifitools.mpy$' which.out
node -e 'require("fs").mkdirSync(process.argv[1], {recursive: true})' "$TMP/replies"
( cd "$SRCDIR" && node tests/peers/http_replies.mjs "$TMP/replies" ) 2>/dev/null
for t in test_thingspeak test_wifitools test_logger; do
    out=$(cd "$SRCDIR" && node tests/peers/mpy_run.mjs --put "$TMP/m/lib:/lib" \
          --put tests/device/stubs:/stubs --put "$TMP/m:/app" --put "$TMP/replies:/replies" \
          "tests/device/$t.py" 2>&1)
    passed=$(echo "$out" | grep -c '^ok - ')
    if echo "$out" | grep -q '^FAIL - ' || [ "$passed" -eq 0 ]; then
        fail "$t on the .mpy modules" "$(echo "$out" | grep -m3 -E '^FAIL|Error' | tr '\n' ' ')"
    else
        ok "$t on the .mpy modules ($passed cases)"
    fi
done

# Its own error for a broken module, through esp01's message.
mkdir -p broken && printf 'import helper\n' > broken/main.py && printf 'def f(:\n    pass\n' > broken/helper.py
expect_fail "a syntax error: mpy-cross's message" 1 "helper.py: mpy-cross failed: .*(Traceback|SyntaxError)" \
    "$ESP01" build broken --firmware fw.bin -o x.bin --mpy-cross "$TMP/bin/mpy-cross"
check "nothing written" test ! -e x.bin
"$TOOLS/mkfw" --variant 1M --version v1.18 fw118.bin >/dev/null
expect_fail "v6 bytecode for a v1.18 firmware (v5)" 1 "emits .mpy v6, but MicroPython v1.18.0 loads only v5" \
    "$ESP01" build logger --firmware fw118.bin -o x.bin --mpy-cross "$TMP/bin/mpy-cross"
finish
