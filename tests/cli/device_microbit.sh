# Device commands against MicroPython 1.9.2 for the micro:bit (Debian's
# firmware-microbit-micropython under qemu-system-arm -M microbit): old
# firmware without raw-paste, binascii or hashlib, a flat filesystem and
# about 8 KB of heap.  It runs behind the relay at 115200 baud with a
# 256-byte dropping receive buffer.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/peer_lib.sh"

if ! have_microbit_peer; then
    skip "device_microbit" "qemu-system-arm or firmware-microbit-micropython is missing (run tests/install-deps.sh)"
    finish
fi
if ! start_microbit mb --baud 115200 --rx-buffer 256; then
    fail "micro:bit peer" "MicroPython 1.9.2 under QEMU did not answer behind the relay"
    finish
fi
export ESP01_PORT=$PEER_PORT
E=$ESP01

# Raw-paste is tried and refused (the old firmware re-prints its banner).
expect_ok "exec with raw-paste fallback" "$E" exec 'print(sum(range(10)))'
check "exec output" grep -q "^45" "$TMP/out"

head -c 2500 "$SRCDIR/src/device/rawrepl.c" > "$TMP/code.py"
head -c 1500 /dev/urandom > "$TMP/blob.bin"
for f in code.py blob.bin; do
    rm -f "$TMP/back"
    if "$E" put "$TMP/$f" ":$f" >"$TMP/out" 2>"$TMP/err" &&
       "$E" get ":$f" "$TMP/back" >/dev/null 2>>"$TMP/err" && cmp -s "$TMP/$f" "$TMP/back"; then
        ok "put/get $f (repr, no binascii)"
    else fail "put/get $f (repr, no binascii)" "$(head -c 300 "$TMP/err")"; fi
done
# Ten more round trips with fresh content.  A put may fail cleanly when
# the emulated board stalls; what is on the board must then still be the
# previous file, and never a mix.
bad=0 landed=0
cp "$TMP/blob.bin" "$TMP/expect"
"$E" put "$TMP/expect" :r.bin >/dev/null 2>&1
for i in $(seq 1 10); do
    head -c $((200 + i * 97)) /dev/urandom > "$TMP/r$i"
    if "$E" put "$TMP/r$i" :r.bin >/dev/null 2>"$TMP/err"; then
        cp "$TMP/r$i" "$TMP/expect"; landed=$((landed + 1))
    fi
    "$E" get :r.bin "$TMP/r$i.back" >/dev/null 2>>"$TMP/err" &&
        cmp -s "$TMP/expect" "$TMP/r$i.back" || bad=$((bad + 1))
done
check "10 round trips, 0 corrupted" test "$bad" -eq 0
check "10 round trips, most land" test "$landed" -ge 8

expect_ok "ls -l" "$E" ls -l
check "ls -l lists code.py with its size" grep -Eq "^ +2500  code.py$" "$TMP/out"
check "no temporary files left" sh -c "! grep -q part '$TMP/out'"
expect_ok "rm" "$E" rm :blob.bin
expect_ok "ls after rm" "$E" ls
check "rm removed the file" sh -c "! grep -qx blob.bin '$TMP/out'"
expect_fail "cat missing" 1 "nope.py': no such file or directory on the device" "$E" cat :nope.py
expect_fail "mkdir on a flat filesystem" 1 "no directories" "$E" mkdir :lib
expect_fail "df without statvfs" 1 "no os.statvfs" "$E" df

# A file larger than the flash filesystem: a clear error, old file intact.
printf 'OLD = 1\n' > "$TMP/main.py"
expect_ok "put main.py" "$E" put "$TMP/main.py" :main.py
head -c 60000 /dev/urandom > "$TMP/huge.bin"
expect_fail "put too large" 1 "main.py': the device filesystem is full" "$E" put "$TMP/huge.bin" :main.py
expect_ok "cat main.py after ENOSPC" "$E" cat :main.py
check "main.py intact after ENOSPC" cmp -s "$TMP/out" "$TMP/main.py"

printf 'for i in range(3):\n    print("tick", i)\n' > "$TMP/s.py"
expect_ok "run" "$E" run "$TMP/s.py"
check "run streams output" test "$(tr -d '\r' < "$TMP/out")" = "$(printf 'tick 0\ntick 1\ntick 2')"

mkdir -p "$TMP/app"
for i in 1 2 3; do echo "V = $i" > "$TMP/app/m$i.py"; done
expect_ok "sync without hashlib" "$E" sync "$TMP/app"
check "sync warns and uploads all" grep -q "no hashlib" "$TMP/err"
expect_ok "cat synced" "$E" cat :m2.py
check "synced content" grep -qx "V = 2" "$TMP/out"

expect_ok "soft reset + exec chain" "$E" reset --soft + exec 'print("back")'
check "device answers after reset" grep -q back "$TMP/out"
finish
