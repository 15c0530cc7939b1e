# The flasher stub's QEMU build against tests/tools/stubdrv, a small
# client of our own for what esptool-js never does: every error code,
# errors reported after the acknowledgement, READ_FLASH with small
# in-flight windows, the baud-rate revert timers, SPI_SET_PARAMS limits,
# and FLASH_END rebooting the chip (QEMU then exits).
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stub_lib.sh"
if ! stub_qemu_available; then
    skip "stub driven by stubdrv" "$STUB_QEMU_MISSING"
    finish
fi
D=$TMP/q
mkdir -p "$D"
head -c 2097152 /dev/urandom > "$D/flash.bin"
echo 452 > "$D/clkdiv"
stub_qemu_start "$D" || { fail "stub under QEMU starts" "$(cat "$D/qemu.log" 2>/dev/null)"; finish; }
timeout 120 "$TOOLS/stubdrv" "$D/tty" "$D/flash.bin" "$D/uart.ctl"
rc=$?
stub_qemu_wait 10
qrc=$STUB_QEMU_RC
stub_qemu_stop
check "stubdrv finished" test $rc -le 1
check "QEMU exited after the stub reset the chip" test "$qrc" -eq 0
check "the last event is the reset" test "$(tail -1 "$D/uart.ctl")" = reset
check "no CPU fault in the stub" sh -c "! grep -q fault '$D/uart.ctl'"
finish
