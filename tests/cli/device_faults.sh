# Device commands against the protocol-level fake device (raw-paste with
# flow control, and misbehaviour on request) behind the relay.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/peer_lib.sh"
E=$ESP01

start_fake fake || fail "fake device" "relay did not start"
expect_ok "exec over raw-paste" "$E" exec --port "$PEER_PORT" 'x=1'
check "fake device got the code" grep -q "^len=3 crc=" "$TMP/out"
expect_fail "busy device" 1 "did not finish in time" "$E" exec --port "$PEER_PORT" --timeout 2 'busy_loop()'
stop_peers
start_fake fake2 || fail "fake device" "relay did not start"
# SIGINT as a user's Ctrl-C would send it: the device ignores it.
"$E" exec --port "$PEER_PORT" 'busy_loop()' >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 0.5
kill -INT "$pid"
wait "$pid"
rc=$?
check "Ctrl-C on a busy device exits 130" test "$rc" -eq 130
check "Ctrl-C on a busy device says why" grep -q "ignores Ctrl-C" "$TMP/err"
expect_fail "busy device refuses the raw REPL" 1 "ignores Ctrl-C" "$E" ls --port "$PEER_PORT"
stop_peers

start_fake garbage --garbage || fail "fake device" "relay did not start"
expect_fail "garbage instead of OK" 1 "instead of OK" "$E" exec --no-paste --port "$PEER_PORT" 'x=1'
stop_peers

start_fake old --old || fail "fake device" "relay did not start"
expect_ok "old firmware: plain raw fallback" "$E" exec --port "$PEER_PORT" 'print(1)'
check "old firmware got the code" grep -q "^len=8 crc=" "$TMP/out"
stop_peers

start_fake early --early 50 || fail "fake device" "relay did not start"
expect_fail "raw-paste ended early" 1 "ended raw-paste" "$E" exec --port "$PEER_PORT" "x='$(head -c 300 /dev/zero | tr '\0' a)'"
stop_peers

# A port where nothing answers (wrong device, or no MicroPython).
start_relay silent --baud 115200 -- sleep 60 || fail "relay" "did not start"
expect_fail "nothing answering" 1 "did not enter the raw REPL" "$E" ls --port "$PEER_PORT"
stop_peers
finish
