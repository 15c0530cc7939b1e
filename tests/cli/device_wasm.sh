# Device commands against MicroPython 1.27 (WebAssembly build from npm,
# binascii + hashlib + deflate, plain raw REPL only) behind the slow-link
# relay at 115200 baud with a 256-byte dropping receive buffer.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/peer_lib.sh"

if ! have_wasm_peer; then
    skip "device_wasm" "node or the npm MicroPython peer is missing (run tests/install-deps.sh)"
    finish
fi
if ! start_wasm wasm --baud 115200 --rx-buffer 256; then
    fail "wasm peer" "MicroPython (wasm) did not answer behind the relay"
    finish
fi
export ESP01_PORT=$PEER_PORT ESP01_NO_PASTE=1
E=$ESP01
D=:/tmp/t

expect_ok "mkdir" "$E" mkdir "$D"
expect_fail "mkdir existing" 1 "already exists" "$E" mkdir "$D"

# A .py file, a binary file and an empty one, each with every encoding.
# Source text as test data; all of devfs*.c, so that splitting the file
# does not shrink it below the sizes used here.
cat "$SRCDIR"/src/device/devfs*.c > "$TMP/source.txt"
head -c 20000 "$TMP/source.txt" > "$TMP/code.py"
head -c 7000 /dev/urandom > "$TMP/blob.bin"
: > "$TMP/empty.txt"
for enc in deflate base64 repr; do
    for f in code.py blob.bin empty.txt; do
        rm -f "$TMP/back"
        if "$E" put --encoding "$enc" "$TMP/$f" "$D/$f" >"$TMP/out" 2>"$TMP/err" &&
           "$E" get "$D/$f" "$TMP/back" >/dev/null 2>>"$TMP/err" && cmp -s "$TMP/$f" "$TMP/back"; then
            ok "put/get $f ($enc)"
        else fail "put/get $f ($enc)" "$(head -c 300 "$TMP/err")"; fi
    done
done

expect_ok "ls" "$E" ls "$D"
check "ls lists the files" grep -qx "code.py" "$TMP/out"
expect_ok "ls -l" "$E" ls -l "$D"
check "ls -l shows sizes" grep -Eq "^ +20000  code.py$" "$TMP/out"
check "no temporary files left" sh -c "! grep -q part '$TMP/out'"
expect_ok "cat" "$E" cat "$D/code.py"
check "cat prints the file" cmp -s "$TMP/out" "$TMP/code.py"

expect_fail "cat missing file" 1 "no such file or directory on the device" "$E" cat :/tmp/t/nope.py
expect_fail "get missing file" 1 "nope.py.*no such file" "$E" get :/tmp/t/nope.py "$TMP/x"
check "failed get writes nothing" test ! -e "$TMP/x"
expect_fail "rm missing" 1 "no such file" "$E" rm :/tmp/t/nope.py
expect_fail "rmdir non-empty" 1 "not empty|already exists|OSError" "$E" rmdir "$D"
expect_fail "rm dir without -r" 1 "is a directory" "$E" rm "$D"

# Recursive copies both ways.
mkdir -p "$TMP/proj/lib/sub"
echo 'import lib.util' > "$TMP/proj/main.py"
echo 'X = 1' > "$TMP/proj/lib/util.py"
head -c 3000 /dev/urandom > "$TMP/proj/lib/sub/data.bin"
expect_ok "put -r" "$E" put -r "$TMP/proj" "$D/"
expect_ok "get -r" "$E" get -r "$D/proj" "$TMP/proj-back"
check "get -r brings back the same tree" diff -r "$TMP/proj" "$TMP/proj-back"
expect_ok "tree" "$E" tree "$D/proj"
check "tree shows nested files" grep -q "data.bin  (3000)" "$TMP/out"
expect_ok "rm -r" "$E" rm -r "$D/proj"
expect_ok "ls after rm -r" "$E" ls "$D"
check "rm -r removed the directory" sh -c "! grep -q '^proj/' '$TMP/out'"

# run streams output and exits non-zero on an exception.
printf 'for i in range(3):\n    print("line", i)\n' > "$TMP/s.py"
expect_ok "run" "$E" run "$TMP/s.py"
check "run output" test "$(tr -d '\r' < "$TMP/out")" = "$(printf 'line 0\nline 1\nline 2')"
expect_fail "exec raising" 1 "" "$E" exec 'raise ValueError("boom")'
check "traceback on stderr" grep -q "ValueError: boom" "$TMP/err"

# Chained commands share one connection.
echo 'print("chained")' > "$TMP/c.py"
expect_ok "put + ls chain" "$E" put "$TMP/c.py" "$D/c.py" + ls "$D"
check "chain ran both" grep -qx "c.py" "$TMP/out"

# sync: uploads what differs, then nothing; --delete; --dry-run.
mkdir -p "$TMP/app/lib"
for i in $(seq 1 6); do echo "V = $i" > "$TMP/app/m$i.py"; done
echo 'def f(): pass' > "$TMP/app/lib/helpers.py"
echo 'ignored' > "$TMP/app/.secret"
expect_ok "sync first" "$E" sync "$TMP/app" :/tmp/app
check "sync uploaded all" grep -q "^7 uploaded, 0 unchanged" "$TMP/out"
expect_ok "sync again" "$E" sync "$TMP/app" :/tmp/app
check "sync is idempotent" grep -q "^0 uploaded, 7 unchanged" "$TMP/out"
echo 'V = 99' > "$TMP/app/m3.py"
rm "$TMP/app/m6.py"
expect_ok "sync --dry-run" "$E" sync --dry-run --delete "$TMP/app" :/tmp/app
check "dry run lists the change" grep -q "^put .*m3.py -> :/tmp/app/m3.py" "$TMP/out"
expect_ok "sync after dry run" "$E" sync --delete "$TMP/app" :/tmp/app
check "sync uploads only the changed file" grep -q "^1 uploaded, 5 unchanged, 1 removed" "$TMP/out"
expect_ok "cat synced" "$E" cat :/tmp/app/m3.py
check "synced content" grep -qx "V = 99" "$TMP/out"
check "dotfiles not synced" sh -c "! '$E' cat :/tmp/app/.secret >/dev/null 2>&1"

expect_ok "df" "$E" df
check "df has numbers" grep -Eq "^ +[0-9]+ +[0-9]+ +[0-9]+" "$TMP/out"

# Disconnect in the middle of a put: the old file stays whole.
printf 'OLD = 1\n' > "$TMP/main.py"
expect_ok "put old main.py" "$E" put "$TMP/main.py" :/tmp/main.py
head -c 30000 "$SRCDIR/src/device/rawrepl.c" > "$TMP/new.py"
kill -USR2 "$PEER_RELAY"
expect_fail "put through a pulled cable" 1 "." "$E" put --timeout 3 "$TMP/new.py" :/tmp/main.py
kill -USR1 "$PEER_RELAY"
sleep 0.2
expect_ok "cat after reconnect" "$E" cat :/tmp/main.py
check "old main.py intact" cmp -s "$TMP/out" "$TMP/main.py"
expect_ok "put after reconnect" "$E" put "$TMP/new.py" :/tmp/main.py
expect_ok "get after reconnect" "$E" get :/tmp/main.py "$TMP/new-back.py"
check "new main.py complete" cmp -s "$TMP/new.py" "$TMP/new-back.py"

ESP01_SYSFS_ROOT=$TMP/none ESP01_DEV_ROOT=$TMP/none expect_fail "no port" 1 \
    "no USB serial port found .*give --port PATH or set ESP01_PORT" env -u ESP01_PORT "$E" ls
expect_fail "missing port" 1 "cannot open '/nonexistent/tty'" "$E" ls --port /nonexistent/tty
expect_fail "device path needed" 2 "device path" "$E" cat main.py
expect_ok "help" "$E" put --help

# A noisy line (one byte in 20000 lost): every put either lands whole or
# fails cleanly leaving the previous file; never a corrupted file.
stop_peers
if start_wasm noisy --baud 115200 --drop-one-in 20000; then
    export ESP01_PORT=$PEER_PORT
    bad=0 good=0
    printf 'START = 1\n' > "$TMP/prev.py"
    "$E" put "$TMP/prev.py" :/tmp/n.py >/dev/null 2>&1
    cp "$TMP/prev.py" "$TMP/expect.py"
    for i in 1 2 3 4 5; do
        head -c $((12000 + i * 3000)) "$TMP/source.txt" > "$TMP/n$i.py"
        echo "# $i" >> "$TMP/n$i.py"
        if "$E" put --encoding base64 "$TMP/n$i.py" :/tmp/n.py >/dev/null 2>"$TMP/err"; then
            cp "$TMP/n$i.py" "$TMP/expect.py"; good=$((good + 1))
        fi
        "$E" get :/tmp/n.py "$TMP/n.back" >/dev/null 2>&1 && cmp -s "$TMP/n.back" "$TMP/expect.py" || bad=$((bad + 1))
    done
    check "noisy line: no corrupted file" test "$bad" -eq 0
    check "noisy line: retries get files through" test "$good" -ge 3
else
    fail "noisy peer" "did not start"
fi

# socat gives the same kind of peer a pty directly (no relay in between).
SOCAT_TTY=$TMP/socat.tty
socat PTY,link="$SOCAT_TTY",raw,echo=0 EXEC:"node $SRCDIR/tests/tools/mp-wasm-repl.mjs $MP_WASM",pty,raw,echo=0 2>/dev/null &
PEER_PIDS+=($!)
for i in $(seq 40); do
    [ -e "$SOCAT_TTY" ] && "$E" exec --port "$SOCAT_TTY" 'print(6*7)' 2>/dev/null | grep -q 42 && break
    sleep 0.25
done
expect_ok "exec over socat" "$E" exec --port "$SOCAT_TTY" 'import sys;print(sys.implementation.name)'
check "socat peer is MicroPython" grep -q micropython "$TMP/out"
finish
