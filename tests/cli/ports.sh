# Serial port discovery and `esp01 ports`, on a fake machine (tests/
# ports_lib.sh: a sysfs tree with CH340, CP2102, FTDI and cdc_acm adapters
# and platform/virtual ttys that are not USB) whose /dev entries point at
# ptys: the ROM loader simulator, MicroPython (wasm) behind the relay, the
# fake raw REPL device, and a port where nothing answers.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/peer_lib.sh"
. "$SRCDIR/tests/ports_lib.sh"
cd "$TMP" || exit 1
SIM=$TOOLS/romsim
SIM_PIDS=()
trap 'for p in "${SIM_PIDS[@]}"; do kill "$p" 2>/dev/null; done; stop_peers; rm -rf "$TMP"' EXIT
start_rom() { # NAME: the ROM loader simulator on $TMP/NAME.tty
    "$SIM" --link "$TMP/$1.tty" --flash "$TMP/$1.flash" --log "$TMP/$1.log" >/dev/null &
    SIM_PIDS+=($!)
    for _ in $(seq 100); do [ -e "$TMP/$1.tty" ] && return 0; sleep 0.05; done
    return 1
}
unset ESP01_PORT
use_machine() { export ESP01_SYSFS_ROOT=$FSYS ESP01_DEV_ROOT=$FDEV; }

# ---- listing -------------------------------------------------------------------
fake_machine "$TMP/m1"
: > "$TMP/plainfile"
fake_usb_serial ttyUSB0 ch341-uart 1a86 7523 "" 1 "$TMP/plainfile"
fake_usb_serial ttyUSB1 cp210x 10c4 ea60 0001 2 "$TMP/plainfile" "CP2102 USB to UART Bridge Controller"
fake_usb_serial ttyUSB10 ftdi_sio 0403 6001 FT1234 4 "$TMP/plainfile" "$(printf 'Evil\033[31m')"
fake_cdc_acm ttyACM0 303a 1001 "A0:B7:65:01:02:03" 3 "$TMP/missing-node"
fake_platform_tty ttyS0
fake_virtual_tty tty0
use_machine
expect_ok "ports" "$ESP01" ports
check "ports: the USB ones, in natural order, not ttyS0 or tty0" \
    test "$(grep '^/' out | tr '\n' ' ')" = "$FDEV/ttyACM0 $FDEV/ttyUSB0 $FDEV/ttyUSB1 $FDEV/ttyUSB10 "
check "ports: CH340 by its VID:PID" grep -q '^  bridge:    CH340 1a86:7523 ' out
check "ports: CP210x with its product string" grep -q '^  bridge:    CP210x 10c4:ea60 (.*CP2102 USB to UART Bridge Controller)' out
check "ports: the CH340 has no serial number" grep -q '^  serial:    none (tell it by its by-path name)' out
check "ports: by-path names" grep -q "^  by-path:   $FDEV/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0$" out
check "ports: escape bytes from a device are not printed" sh -c "! grep -q \"$(printf '\033')\" out && grep -q 'Evil?\[31m' out"
check "ports: a port without a device node says so" grep -q '^  access:    no device node' out
expect_ok "ports --json" "$ESP01" ports --json
check "json: cdc_acm with Espressif's VID" grep -q '"port": "'"$FDEV"'/ttyACM0".*"bridge": "Espressif USB", "vid": "303a", "pid": "1001".*"driver": "cdc_acm"' out
check "json: the CH340's serial is null, its driver ch341-uart" grep -q '"bridge": "CH340", "vid": "1a86", "pid": "7523", "serial": null, .*"driver": "ch341-uart", "usb_location": "1-1", "can_open": true' out
check "json: four entries" test "$(grep -c '"port":' out)" -eq 4
expect_fail "several ports: ask which" 2 "3 USB serial ports: say which with --port PATH" "$ESP01" probe
check "several ports: listed" test "$(grep -c "^  $FDEV/ttyUSB" err)" -eq 3
expect_fail "several ports: device commands ask too" 2 "3 USB serial ports" "$ESP01" ls
fake_machine "$TMP/empty"
use_machine
expect_ok "no ports: not an error for 'ports'" "$ESP01" ports
check "no ports: says so" grep -q '^no USB serial port found' err
expect_fail "no ports: probe says how" 1 "no USB serial port found \(is the adapter plugged in\? 'esp01 ports' lists them\): give --port PATH or set ESP01_PORT" "$ESP01" probe

# ---- one port: used, and named -----------------------------------------------------
start_rom rom1 || fail "romsim" "did not start"
fake_machine "$TMP/m2"
fake_usb_serial ttyUSB0 ch341-uart 1a86 7523 "" 1 "$TMP/rom1.tty"
fake_platform_tty ttyS0
use_machine
expect_ok "one port: probe uses it" "$ESP01" probe
check "one port: says which" grep -q "^Port:      $FDEV/ttyUSB0 (CH340 1a86:7523: the only USB serial port)" err
check "one port: the chip answered there" grep -q '^Flash size:  1 MiB$' out
ESP01_PORT=$TMP/rom1.tty expect_ok "ESP01_PORT still wins" "$ESP01" probe
check "ESP01_PORT: no port chosen for it" sh -c "! grep -q '^Port:' err"
start_fake fake1 || fail "fake device" "relay did not start"
fake_machine "$TMP/m3"
fake_cdc_acm ttyACM0 2e8a 0005 E6614C 1 "$PEER_PORT"
use_machine
expect_ok "one port: device commands use it" "$ESP01" exec 'print(1)'
check "one port: named for device commands too" grep -q "^Port:      $FDEV/ttyACM0 (USB serial 2e8a:0005, serial E6614C: the only USB serial port)" err

# ---- a port this user may not open ------------------------------------------------
fake_machine "$TMP/m4"
fake_usb_serial ttyUSB0 ch341-uart 1a86 7523 "" 1 "$TMP/rom1.tty"
chmod 755 "$TMP"
chmod -R a+rX "$TMP/m4"
pty=$(readlink "$TMP/rom1.tty")
grp=$(stat -c %G "$pty")
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ] &&
   setpriv --reuid=65534 --regid=65534 --clear-groups "$ESP01" version >/dev/null 2>&1; then
    ESP01_SYSFS_ROOT=$FSYS ESP01_DEV_ROOT=$FDEV setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$ESP01" probe >out 2>err
    check "permission: fails" test $? -eq 1
    check "permission: says it is a permission problem and how to fix it" \
        grep -q "esp01: $FDEV/ttyUSB0 is there, but this user may not open it (it belongs to group '$grp'): a permission problem. Fix: sudo usermod -aG $grp \$USER" err
    ESP01_SYSFS_ROOT=$TMP/empty/sys ESP01_DEV_ROOT=$FDEV setpriv --reuid=65534 --regid=65534 \
        --clear-groups "$ESP01" ls >out 2>err
    check "permission without sysfs: the /dev node is found" grep -q "$FDEV/ttyUSB0 is there, but this user may not open it" err
    ESP01_SYSFS_ROOT=$FSYS ESP01_DEV_ROOT=$FDEV setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$ESP01" ports >out 2>err
    check "permission: ports shows it" grep -q '^  access:    this user may not open it (Permission denied)' out
elif [ "$(id -u)" -ne 0 ] && [ ! -w "$pty" ]; then
    ESP01_SYSFS_ROOT=$FSYS ESP01_DEV_ROOT=$FDEV expect_fail "permission" 1 "a permission problem" "$ESP01" probe
else
    skip "permission" "needs root and setpriv to run as another user"
fi

# ---- --probe: what answers where, nothing reset ----------------------------------------
start_relay silent -- sleep 120 || fail "silent port" "relay did not start"
SILENT=$PEER_PORT
fake_machine "$TMP/m5"
fake_usb_serial ttyUSB0 ch341-uart 1a86 7523 "" 1 "$TMP/rom1.tty"
fake_cdc_acm ttyACM0 303a 1001 "" 3 "$SILENT"
have_mp=no
if have_wasm_peer && start_wasm mp; then
    have_mp=yes
    fake_usb_serial ttyUSB1 cp210x 10c4 ea60 0001 2 "$PEER_PORT"
fi
use_machine
t0=$(date +%s.%N)
expect_ok "ports --probe" "$ESP01" ports --probe
t1=$(date +%s.%N)
check "probe: the ROM loader, chip and flash size" \
    grep -q '^  answers:   the ROM loader: ESP8266EX, 1 MiB flash (JEDEC ef4014)$' out
check "probe: nothing on the silent port" grep -q '^  answers:   nothing (' out
check "probe: ports probed side by side (under 8 s)" test "$(echo "$t1 - $t0 < 8" | bc)" = 1
check "probe: the ROM loader was not made to leave" sh -c "! grep -q 'left the loader' '$TMP/rom1.log'"
if [ $have_mp = yes ]; then
    check "probe: MicroPython and its version" \
        grep -Eq '^  answers:   MicroPython v1\.[0-9]+\.[0-9]+ on [0-9-]+.*' out
    expect_ok "probe: MicroPython still answers afterwards" "$ESP01" exec --no-paste --port "$FDEV/ttyUSB1" 'print(6*7)'
    check "probe: ... and runs code" grep -q '^42' out
    expect_ok "ports --probe --json" "$ESP01" ports --probe --json
    check "probe json: micropython with its version" grep -q '"probe": {"answer": "micropython", "version": "v1\.' out
    check "probe json: rom with the flash size" grep -q '"probe": {"answer": "rom", "chip": "ESP8266EX", "flash_size": 1048576, "jedec": "ef4014"}' out
else
    skip "probe: MicroPython" "the wasm MicroPython peer is missing (tests/install-deps.sh)"
fi
expect_ok "ports --probe --reset" "$ESP01" ports --probe --reset
check "probe --reset: the loader found through the reset lines, then reset" \
    grep -q '^  answers:   the ROM loader: ESP8266EX, 1 MiB flash (JEDEC ef4014); reset back into its firmware$' out
expect_fail "--reset needs --probe" 2 "--reset goes with --probe" "$ESP01" ports --reset
finish
