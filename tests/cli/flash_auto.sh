# `esp01 flash PROJECT` with nothing else: the port found, the chip's size
# read, the official build for it taken from micropython.org (a stand-in on
# 127.0.0.1) or the cache, built and written; and several boards at once.
# The boards are tests/tools/romsim running esp01's flasher stub under QEMU,
# a fresh simulator per esp01 run (its flash file persists).
. "$SRCDIR/tests/lib.sh"
cd "$TMP" || exit 1
. "$SRCDIR/tests/romsim_lib.sh"
. "$SRCDIR/tests/ports_lib.sh"
if ! stub_sim_available; then
    skip "flash without --firmware" "$STUB_MISSING"
    finish
fi
if ! command -v node >/dev/null; then
    skip "flash without --firmware" "no node (tests/install-deps.sh)"
    finish
fi
unset ESP01_PORT http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
# sim NAME [romsim options]: a fresh simulator with the stub, unthrottled,
# after the previous one of that name has ended (they share the flash file)
declare -A SIM_OF
sim() {
    local name=$1; shift
    if [ -n "${SIM_OF[$name]:-}" ]; then
        kill "${SIM_OF[$name]}" 2>/dev/null
        wait "${SIM_OF[$name]}" 2>/dev/null
    fi
    rm -f "$name.tty"
    "$SIM" --link "$TMP/$name.tty" --flash "$TMP/$name.flash" --log "$TMP/$name.log" \
        --stub --stub-elf "$STUB_ELF" "$@" >/dev/null &
    SIM_OF[$name]=$!
    PIDS+=($!)
    for _ in $(seq 100); do [ -e "$name.tty" ] && return 0; sleep 0.05; done
    return 1
}

# The download site: 1M, generic and 512K builds of two releases.
F=root/resources/firmware
mkdir -p "$F" root/download/ESP8266_GENERIC
fw() { # NAME VARIANT VERSION
    "$MKFW" --variant "$2" --version "$3" "$F/$1" >/dev/null
    echo "<a href=\"/resources/firmware/$1\">$1</a>" >> root/download/ESP8266_GENERIC/index.html
}
fw ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin 1M v1.24.1
fw ESP8266_GENERIC-20241129-v1.24.1.bin 2M v1.24.1
fw ESP8266_GENERIC-FLASH_512K-20241129-v1.24.1.bin 512K v1.24.1
fw ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin 1M v1.23.0
node "$SRCDIR/tests/peers/fwserver.mjs" --root "$TMP/root" --port-file "$TMP/port" \
    --log "$TMP/http.log" --lifetime 600 2>/dev/null &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
export ESP01_FIRMWARE_URL=http://127.0.0.1:$(cat port) ESP01_CACHE_DIR=$TMP/cache
N1M=ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin

mkdir -p proj
printf 'import wifitools\nprint("hello")\n' > proj/main.py
printf '{"ssid": "hall", "password": "s3cr3t-pw"}' > hall.json
printf '{"ssid": "yard", "password": "s3cr3t-pw"}' > yard.json

# ---- one board, one command ---------------------------------------------------
sim one
fake_machine "$TMP/m1"
fake_usb_serial ttyUSB0 ch341-uart 1a86 7523 "" 1 "$TMP/one.tty"
export ESP01_SYSFS_ROOT=$FSYS ESP01_DEV_ROOT=$FDEV
expect_ok "flash PROJECT: no port, no firmware given" "$ESP01" flash proj --after no-reset
check "the only USB port was used, and named" grep -q "^Port:      $FDEV/ttyUSB0 (CH340 1a86:7523: the only USB serial port)" err
check "the 1M build of the newest release, for the 1 MiB chip" \
    grep -q "^Firmware:  downloaded $N1M: checked" err
check "it is now cached" cmp -s "cache/$N1M" "$F/$N1M"
check "the modules it imports were added" grep -q '^Modules:   wifitools -> /lib' err
"$ESP01" build proj --firmware "cache/$N1M" -o want.bin -q --flash-size 1M >/dev/null 2>&1
check "the flash holds the image 'esp01 build' makes" same_range want.bin 4 one.flash 4 $(( $(stat -c %s want.bin) - 4 ))
"$ESP01" fs ls one.flash > ls.txt 2>&1
check "main.py and lib/wifitools.py on the board's filesystem" \
    sh -c "grep -q 'main.py' ls.txt && '$ESP01' fs cat one.flash lib/wifitools.py | cmp -s - '$SRCDIR/device/wifitools.py'"
unset ESP01_SYSFS_ROOT ESP01_DEV_ROOT

sim one
expect_ok "flash PROJECT --firmware 1.23.0 --config" "$ESP01" flash proj --firmware 1.23.0 \
    --config hall.json --port one.tty --after no-reset
check "that release" grep -q "^Firmware:  downloaded ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin" err
check "config named, contents not shown" sh -c "grep -q '^Config:    config.json from hall.json' err && ! grep -q s3cr3t out err"
check "the board got the config" sh -c "'$ESP01' fs cat one.flash config.json | cmp -s - hall.json"

# A 2 MiB chip takes the generic build; a 512 KiB chip cannot hold a project.
sim two --jedec EF4015 --size 2097152
expect_ok "a 2 MiB chip" "$ESP01" flash proj --port two.tty --after no-reset
check "2 MiB: the generic build" grep -q '^Firmware:  downloaded ESP8266_GENERIC-20241129-v1.24.1.bin' err
check "2 MiB: built for it" grep -q '^Built [0-9]* bytes for a 2 MiB chip' err
sim small --jedec EF4013 --size 524288
cp small.flash small.before
expect_fail "a 512 KiB chip: says why and what would work" 1 \
    "this board has 512 KiB of flash: MicroPython's build for it \(512K\) has no filesystem, so a project cannot live on it. A board with 1 MiB or more" \
    "$ESP01" flash proj --port small.tty --after no-reset
check "512 KiB: nothing written" cmp -s small.flash small.before
check "512 KiB: nothing downloaded" test ! -e "cache/ESP8266_GENERIC-FLASH_512K-20241129-v1.24.1.bin"

# Offline: the newest cached release, and the message says so.
sim one
ESP01_FIRMWARE_URL=http://127.0.0.1:9 expect_ok "offline: the cached release" \
    "$ESP01" flash proj --port one.tty --after no-reset
check "offline: said" grep -q '^Firmware:  offline (cannot reach .*): using the newest cached release, v1.24.1 (1M build)' err
expect_fail "--config needs a project folder" 2 "--config goes with a project folder" \
    "$ESP01" flash want.bin --config hall.json --port one.tty

# ---- several boards at once ------------------------------------------------------------
sim a; sim b
"$TOOLS/relay" --link "$TMP/silent.tty" -- sleep 120 2>/dev/null &
PIDS+=($!)
for _ in $(seq 100); do [ -e silent.tty ] && break; sleep 0.05; done
cat > boards.json <<EOF
{"$TMP/a.tty": "hall.json", "*": "yard.json"}
EOF
t0=$(date +%s)
"$ESP01" flash proj --port a.tty --port b.tty --port silent.tty --board-config boards.json \
    --after no-reset --wait 3 > out 2> err
rc=$?
check "fleet: the exit status says one failed" test $rc -eq 1
check "fleet: summary" grep -q '^2 of 3 boards written:$' out
check "fleet: a written" grep -Eq '^  a.tty +ok ' out
check "fleet: b written" grep -Eq '^  b.tty +ok ' out
check "fleet: the silent port failed, with its reason" \
    grep -Eq '^  silent.tty +FAILED .*esp01: no reply from the ROM loader within 3 s' out
check "fleet: one progress line per board as it went" \
    sh -c "grep -q '^a.tty: Writing: ' out && grep -q '^b.tty: Writing: ' out"
check "fleet: one release for all" grep -q '^Firmware:  v1.24.1, the newest release, for every board' out
check "fleet: a got hall.json (by its path)" sh -c "'$ESP01' fs cat a.flash config.json | cmp -s - hall.json"
check "fleet: b got yard.json (the \"*\" entry)" sh -c "'$ESP01' fs cat b.flash config.json | cmp -s - yard.json"
check "fleet: no secrets shown" sh -c "! grep -q s3cr3t out err"

# --all-ports over the fake machine; a board missing from boards.json fails alone.
sim a; sim b
fake_machine "$TMP/m2"
fake_usb_serial ttyUSB0 ch341-uart 1a86 7523 "" 1 "$TMP/a.tty"
fake_usb_serial ttyUSB1 cp210x 10c4 ea60 0001 2 "$TMP/b.tty"
fake_platform_tty ttyS0
printf '{"0001": "yard.json", "pci-0000:00:14.0-usb-0:1:1.0-port0": "hall.json"}' > boards2.json
ESP01_SYSFS_ROOT=$FSYS ESP01_DEV_ROOT=$FDEV expect_ok "fleet: --all-ports, configs by serial and by-path" \
    "$ESP01" flash proj --all-ports --board-config boards2.json --after no-reset
check "fleet: both written" grep -q '^2 of 2 boards written:$' out
check "fleet: ttyUSB0 got hall.json (by-path)" sh -c "'$ESP01' fs cat a.flash config.json | cmp -s - hall.json"
check "fleet: ttyUSB1 got yard.json (USB serial)" sh -c "'$ESP01' fs cat b.flash config.json | cmp -s - yard.json"
sim a; sim b
printf '{"0001": "yard.json"}' > boards3.json
ESP01_SYSFS_ROOT=$FSYS ESP01_DEV_ROOT=$FDEV "$ESP01" flash proj --all-ports \
    --board-config boards3.json --after no-reset >out 2>err
check "fleet: a board without an entry fails the run" test $? -eq 1
check "fleet: it is named, the other written" \
    sh -c "grep -Eq '^  ttyUSB0 +FAILED .*has no entry in boards3.json' out && grep -Eq '^  ttyUSB1 +ok ' out"
printf '{"0001": 5}' > bad.json
expect_fail "fleet: a broken boards file" 1 "--board-config bad.json: the value of \"0001\" is not a string" \
    "$ESP01" flash proj --port a.tty --port b.tty --board-config bad.json
expect_fail "fleet: --config is per board there" 2 "give settings per board with --board-config" \
    "$ESP01" flash proj --port a.tty --port b.tty --config hall.json
finish
