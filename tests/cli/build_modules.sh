#!/usr/bin/env bash
# esp01 build: shipped on-device modules found from imports or --with,
# --config baked in without being shown, --mpy through mpy-cross.  Images
# are read back with `esp01 fs`.  mpy-cross is neither in Debian nor on
# npm: tests/tools/mpy_cross_standin follows its command line.
. "$SRCDIR/tests/lib.sh"
MKFW=$TOOLS/mkfw
DEV=$SRCDIR/device
cd "$TMP" || exit 1

"$MKFW" --variant 1M fw.bin >/dev/null
"$MKFW" --variant 1M --version v1.18 fw118.bin >/dev/null
mkdir -p bin && cp "$TOOLS/mpy_cross_standin" bin/mpy-cross
cp -r "$SRCDIR/examples/thingspeak-logger" logger
rm -f logger/config.json
cat > secret.json <<'JSON'
{"ssid": "hall", "password": "pw-s3cr3t-value", "write_key": "KEYs3cr3tKEY0000"}
JSON
no_secret() { ! grep -q 's3cr3t' "$TMP/out" "$TMP/err"; }

# --- modules found from the example's imports, config baked in
expect_ok "build the logger with --config" "$ESP01" build logger --firmware fw.bin -o l.bin --config secret.json
check "report: modules added to /lib" grep -q '^modules:    wifitools, thingspeak -> /lib' "$TMP/out"
check "report: config named, contents not shown" \
    grep -q '^config:     config.json from secret.json (.* bytes, contents not shown)' "$TMP/out"
check "report and errors never show the config's contents" no_secret
expect_ok "extract the logger image" "$ESP01" fs extract l.bin l
check "lib/thingspeak.py is the shipped module" cmp -s l/lib/thingspeak.py "$DEV/thingspeak.py"
check "lib/wifitools.py is the shipped module" cmp -s l/lib/wifitools.py "$DEV/wifitools.py"
check "config.json is the given file" cmp -s l/config.json secret.json
check "main.py kept" cmp -s l/main.py logger/main.py
expect_ok "dry run" "$ESP01" build logger --firmware fw.bin -o dry.bin --config secret.json --dry-run
check "dry run: nothing written, secrets not shown" test ! -e dry.bin
check "dry run shows no secrets" no_secret

# --- only what is imported, in code
mkdir -p plain && printf 'print("hi")  # import thingspeak\ns = "import wifitools"\n' > plain/main.py
expect_ok "project that imports nothing" "$ESP01" build plain --firmware fw.bin -o p.bin
check "report: no modules line" test "$(grep -c '^modules:' "$TMP/out")" -eq 0
"$ESP01" fs ls p.bin > ls.txt
check "no lib/ in the image" test "$(grep -c 'lib' ls.txt)" -eq 0
expect_ok "--with thingspeak adds it anyway" "$ESP01" build plain --firmware fw.bin -o w.bin --with thingspeak
check "report: only thingspeak" grep -q '^modules:    thingspeak -> /lib' "$TMP/out"
expect_fail "--with an unknown module" 1 "no shipped module 'nope' .*thingspeak, wifitools" \
    "$ESP01" build plain --firmware fw.bin -o x.bin --with thingspeak,nope
check "nothing written after a refused --with" test ! -e x.bin
mkdir -p nested && printf 'def go():\n    try:\n        from wifitools import connect\n    except ImportError:\n        pass\n' > nested/main.py
expect_ok "import nested in a function" "$ESP01" build nested --firmware fw.bin -o n.bin
check "nested import found" grep -q '^modules:    wifitools -> /lib' "$TMP/out"

# --- the project's own copy wins
mkdir -p own/lib && printf 'import thingspeak, wifitools\n' > own/main.py
printf 'MINE = 1\n' > own/lib/thingspeak.py
expect_ok "project with its own thingspeak" "$ESP01" build own --firmware fw.bin -o o.bin
check "report: own copy used" grep -q 'thingspeak: the project.s own copy is used' "$TMP/out"
"$ESP01" fs cat o.bin lib/thingspeak.py > own.txt
check "own lib/thingspeak.py kept" cmp -s own.txt own/lib/thingspeak.py
check "wifitools still added" grep -q '^modules:    wifitools -> /lib' "$TMP/out"

# --- --config edge cases
mkdir -p hascfg && printf 'import wifitools\n' > hascfg/main.py && printf '{"old": 1}' > hascfg/config.json
expect_ok "--config over a project config.json" "$ESP01" build hascfg --firmware fw.bin -o c.bin --config secret.json
check "warned that it replaces the project's" grep -q 'replaces hascfg/config.json' "$TMP/err"
"$ESP01" fs cat c.bin config.json > c.txt
check "the --config file is what is in the image" cmp -s c.txt secret.json
expect_fail "--config file missing" 1 "--config nothere.json: .*No such file" \
    "$ESP01" build plain --firmware fw.bin -o x.bin --config nothere.json
printf '{"ssid": "hall",\n "password": "pw-s3cr3t-value",}\n' > broken.json
expect_fail "--config that is not JSON: line and column" 1 \
    "--config broken.json: not valid JSON: line 2, column 32: expected a \"key\"" \
    "$ESP01" build plain --firmware fw.bin -o x.bin --config broken.json
check "... without showing the file's text" no_secret
check "nothing written for a broken config" test ! -e x.bin
printf '["s3cr3t"]' > list.json
expect_fail "--config must be an object" 1 "--config list.json: must be a JSON object" \
    "$ESP01" build plain --firmware fw.bin -o x.bin --config list.json

# --- --mpy
PATH="$TMP/bin:$PATH" expect_ok "--mpy with mpy-cross on PATH" \
    "$ESP01" build logger --firmware fw.bin -o m.bin --mpy --config secret.json
check "report: bytecode line" grep -q '^bytecode:   2 files compiled to .mpy v6.2' "$TMP/out"
check "--mpy report shows no secrets" no_secret
expect_ok "extract the --mpy image" "$ESP01" fs extract m.bin m
check "modules shipped as .mpy, not .py" test -f m/lib/thingspeak.mpy -a ! -e m/lib/thingspeak.py -a -f m/lib/wifitools.mpy
check ".mpy header: 'M', version 6" test "$(head -c 2 m/lib/thingspeak.mpy | od -An -c | tr -d ' ')" = 'M006'
{ printf 'lib/thingspeak.py\n'; cat "$DEV/thingspeak.py"; } > want.txt
tail -c +5 m/lib/thingspeak.mpy > got.txt
check ".mpy compiled from the shipped source under its image path" cmp -s got.txt want.txt
check "main.py stays source (the firmware runs it by name)" cmp -s m/main.py logger/main.py
MPY_STANDIN_VERSION=5 PATH="$TMP/bin:$PATH" expect_fail "mpy-cross for the wrong firmware" 1 \
    "emits .mpy v5, but MicroPython v1.22.1 loads only v6" \
    "$ESP01" build logger --firmware fw.bin -o x.bin --mpy
check "nothing written after a version mismatch" test ! -e x.bin
MPY_STANDIN_VERSION=5 expect_ok "v5 mpy-cross for v1.18 firmware" \
    "$ESP01" build logger --firmware fw118.bin -o m5.bin --mpy-cross "$TMP/bin/mpy-cross"
check "v1.18 image holds v5 .mpy" \
    test "$("$ESP01" fs cat m5.bin lib/wifitools.mpy | head -c 2 | od -An -c | tr -d ' ')" = 'M005'
PATH=/usr/bin:/bin expect_ok "--mpy without an mpy-cross keeps .py" \
    "$ESP01" build logger --firmware fw.bin -o k.bin --mpy
check "warned that there is no mpy-cross" grep -q 'no mpy-cross on PATH' "$TMP/err"
"$ESP01" fs cat k.bin lib/thingspeak.py > kept.txt 2>&1
check "kept .py" cmp -s kept.txt "$DEV/thingspeak.py"
mkdir -p broken && printf 'import helper\n' > broken/main.py && printf 'syntax error!\n' > broken/helper.py
expect_fail "mpy-cross's error is shown" 1 "helper.py: mpy-cross failed: .*" \
    "$ESP01" build broken --firmware fw.bin -o x.bin --mpy-cross "$TMP/bin/mpy-cross"
expect_fail "--mpy-cross that does not exist" 1 "cannot run '/nonexistent/mpy-cross'" \
    "$ESP01" build logger --firmware fw.bin -o x.bin --mpy-cross /nonexistent/mpy-cross

# --- where the shipped modules come from
mkdir -p inst/bin inst/device && cp "$ESP01" inst/bin/esp01 && cp "$DEV"/*.py inst/device/
printf 'X = "relocated"\n' >> inst/device/thingspeak.py
expect_ok "a binary beside a device/ folder" inst/bin/esp01 build logger --firmware fw.bin -o r.bin
"$ESP01" fs cat r.bin lib/thingspeak.py > r.txt
check "modules taken from ../device next to the binary" cmp -s r.txt inst/device/thingspeak.py
mkdir -p empty
ESP01_DEVICE_DIR=$TMP/empty expect_ok "no shipped modules: still builds" \
    "$ESP01" build logger --firmware fw.bin -o e.bin
check "warned that no modules were found" grep -q 'no shipped modules found' "$TMP/err"
ESP01_DEVICE_DIR=$TMP/empty expect_fail "no shipped modules: --with fails" 1 \
    "--with wifitools: no shipped modules found" \
    "$ESP01" build logger --firmware fw.bin -o x.bin --with wifitools
mkdir -p badsrc && printf 'import wifitools\nx = "open\n' > badsrc/main.py
expect_ok "a .py that cannot be scanned" "$ESP01" build badsrc --firmware fw.bin -o b.bin
check "warned with file and line" grep -q 'main.py: line 2: unterminated string' "$TMP/err"
expect_ok "help lists the new options" "$ESP01" build --help
check "help: --with, --config, --mpy, --mpy-cross" \
    test "$(grep -cE -- '--with|--config|--mpy |--mpy-cross' "$TMP/out")" -ge 4
finish
