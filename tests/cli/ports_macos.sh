# Port discovery the way a Mac does it (serialports_cu.c), on a fake /dev:
# ESP01_PORTS_STYLE=macos makes esp01 list ESP01_DEV_ROOT/cu.* on this
# machine, for want of a Mac (docs/ports.md).  The callout nodes of USB
# serial drivers are listed, their tty.* twins and the Bluetooth and debug
# ports are not; one port is "the only USB serial port" and is used.
. "$SRCDIR/tests/lib.sh"
cd "$TMP" || exit 1
SIM=$TOOLS/romsim
SIM_PID=
trap '[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
unset ESP01_PORT
export ESP01_PORTS_STYLE=macos

# mac_dev DIR NAME...: DIR/NAME for each NAME, a plain file (never opened)
mac_dev() {
    local d=$1; shift
    mkdir -p "$d"
    for n in "$@"; do : > "$d/$n"; done
}

# ---- listing -------------------------------------------------------------------
D=$TMP/m1/dev
mac_dev "$D" cu.usbserial-A50285BI tty.usbserial-A50285BI cu.wchusbserial1420 \
    tty.wchusbserial1420 cu.SLAB_USBtoUART tty.SLAB_USBtoUART cu.usbmodem14101 \
    tty.usbmodem14101 cu.Bluetooth-Incoming-Port tty.Bluetooth-Incoming-Port \
    cu.debug-console cu.wlan-debug cu.JBL-Flip-5 ttyUSB0 console
export ESP01_DEV_ROOT=$D ESP01_SYSFS_ROOT=$TMP/nosys
expect_ok "macos: ports" "$ESP01" ports
check "macos: the four USB callout nodes, in order, no tty.* twin, no Bluetooth or debug port" \
    test "$(grep '^/' out | tr '\n' ' ')" = "$D/cu.SLAB_USBtoUART $D/cu.usbmodem14101 $D/cu.usbserial-A50285BI $D/cu.wchusbserial1420 "
check "macos: cu.usbserial-<serial> is FTDI, the suffix its serial number" \
    sh -c "grep -A2 '^$D/cu.usbserial-A50285BI\$' out | grep -q '^  bridge:    FTDI\$' &&
           grep -A2 '^$D/cu.usbserial-A50285BI\$' out | grep -q '^  serial:    A50285BI\$'"
check "macos: cu.wchusbserial is CH340, no serial but a USB location" \
    sh -c "grep -A2 '^$D/cu.wchusbserial1420\$' out | grep -q '^  bridge:    CH340\$' &&
           grep -A2 '^$D/cu.wchusbserial1420\$' out | grep -q '^  serial:    none (USB location 1420)\$'"
check "macos: cu.SLAB_USBtoUART is CP210x" \
    sh -c "grep -A1 '^$D/cu.SLAB_USBtoUART\$' out | grep -q '^  bridge:    CP210x\$'"
check "macos: cu.usbmodem is native USB (CDC ACM)" \
    sh -c "grep -A1 '^$D/cu.usbmodem14101\$' out | grep -q '^  bridge:    USB CDC ACM\$'"
check "macos: no made-up VID:PID" sh -c "! grep -q '0000:0000' out"
expect_ok "macos: ports --json" "$ESP01" ports --json
check "macos json: four entries" test "$(grep -c '"port":' out)" -eq 4
check "macos json: FTDI, VID:PID unknown (null), serial from the name" \
    grep -q '"port": "'"$D"'/cu.usbserial-A50285BI", "by_path": null, "by_id": null, "bridge": "FTDI", "vid": null, "pid": null, "serial": "A50285BI"' out
check "macos json: the CH340's location" grep -q '"bridge": "CH340".*"usb_location": "1420", "can_open": true' out
unset ESP01_PORTS_STYLE
expect_ok "linux style on the same /dev: no sysfs, no port" "$ESP01" ports
check "linux style: cu.* is not a Linux name" sh -c "! grep -q cu\\. out && grep -q '^no USB serial port found' err"
export ESP01_PORTS_STYLE=macos
expect_fail "macos: several ports, ask which" 2 "4 USB serial ports: say which with --port PATH" "$ESP01" probe
check "macos: the four are listed" test "$(grep -c "^  $D/cu\." err)" -eq 4

# Apple's own drivers for CH34x and PL2303 name the node after the USB
# location: digits only, so not an FTDI serial number.
D=$TMP/m2/dev
mac_dev "$D" cu.usbserial-14220 cu.PL2303G-USBtoUART1410 tty.usbserial-14220
export ESP01_DEV_ROOT=$D
expect_ok "macos: Apple's driver names" "$ESP01" ports
check "macos: cu.usbserial-<digits> is a location, not a serial" \
    sh -c "grep -A2 '^$D/cu.usbserial-14220\$' out | grep -q '^  bridge:    USB serial\$' &&
           grep -A2 '^$D/cu.usbserial-14220\$' out | grep -q '^  serial:    none (USB location 14220)\$'"
check "macos: Prolific's driver is PL2303" \
    sh -c "grep -A1 '^$D/cu.PL2303G-USBtoUART1410\$' out | grep -q '^  bridge:    PL2303\$'"

D=$TMP/m3/dev
mac_dev "$D" tty.usbserial-A50285BI cu.Bluetooth-Incoming-Port
export ESP01_DEV_ROOT=$D
expect_ok "macos: only a tty.* node and Bluetooth: no port" "$ESP01" ports
check "macos: says so" grep -q '^no USB serial port found' err
expect_fail "macos: no port, probe says how" 1 "no USB serial port found \(is the adapter plugged in\?" "$ESP01" probe

# ---- one port: used, and named -------------------------------------------------------
"$SIM" --link "$TMP/rom1.tty" --flash "$TMP/rom1.flash" --log "$TMP/rom1.log" >/dev/null &
SIM_PID=$!
for _ in $(seq 100); do [ -e "$TMP/rom1.tty" ] && break; sleep 0.05; done
D=$TMP/m4/dev
mac_dev "$D" tty.usbserial-A50285BI cu.Bluetooth-Incoming-Port cu.debug-console
ln -s "$TMP/rom1.tty" "$D/cu.usbserial-A50285BI"
export ESP01_DEV_ROOT=$D
expect_ok "macos: one port, probe uses it" "$ESP01" probe
check "macos: says which, by bridge and serial" \
    grep -q "^Port:      $D/cu.usbserial-A50285BI (FTDI, serial A50285BI: the only USB serial port)" err
check "macos: the chip answered there" grep -q '^Flash size:  1 MiB$' out

# ---- a port this user may not open -----------------------------------------------------
chmod 755 "$TMP"
chmod -R a+rX "$TMP/m4"
pty=$(readlink "$TMP/rom1.tty")
grp=$(stat -c %G "$pty")
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ] &&
   setpriv --reuid=65534 --regid=65534 --clear-groups "$ESP01" version >/dev/null 2>&1; then
    setpriv --reuid=65534 --regid=65534 --clear-groups "$ESP01" probe >out 2>err
    check "macos permission: fails" test $? -eq 1
    check "macos permission: says it is a permission problem" \
        grep -q "esp01: $D/cu.usbserial-A50285BI is there, but this user may not open it (it belongs to group '$grp'): a permission problem" err
elif [ "$(id -u)" -ne 0 ] && [ ! -w "$pty" ]; then
    expect_fail "macos permission" 1 "a permission problem" "$ESP01" probe
else
    skip "macos permission" "needs root and setpriv to run as another user"
fi
finish
