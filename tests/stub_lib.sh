# tests/stub_lib.sh - run the flasher stub's QEMU build the way
# docs/stub.md's launch contract says, with socat in the runner's place:
# it listens on D/uart.sock before QEMU starts and bridges it to a pty at
# D/tty.  Sourced after tests/lib.sh (needs TMP, BUILD_DIR).

STUB_ELF=$BUILD_DIR/stub/stub-qemu.elf
STUB_QEMU= STUB_SOCAT= STUB_QEMU_RC=

stub_qemu_stop() {
    [ -n "$STUB_QEMU" ] && kill "$STUB_QEMU" 2>/dev/null && wait "$STUB_QEMU" 2>/dev/null
    [ -n "$STUB_SOCAT" ] && kill "$STUB_SOCAT" 2>/dev/null && wait "$STUB_SOCAT" 2>/dev/null
    STUB_QEMU= STUB_SOCAT=
    exec 3>&- 2>/dev/null
    return 0
}
trap 'stub_qemu_stop; rm -rf "$TMP"' EXIT

# Sets STUB_QEMU_MISSING when something needed is not installed or built.
stub_qemu_available() {
    local c
    for c in qemu-system-xtensa socat; do
        command -v $c >/dev/null || { STUB_QEMU_MISSING="no $c (tests/install-deps.sh)"; return 1; }
    done
    [ -f "$STUB_ELF" ] || { STUB_QEMU_MISSING="no $STUB_ELF (install gcc-xtensa-lx106, run make)"; return 1; }
}

# stub_qemu_start D: D holds flash.bin and clkdiv (and jedec, else the id
# of a 1 MiB Winbond flash is written); the stub's UART ends up on the pty
# D/tty, its events in D/uart.ctl.
stub_qemu_start() {
    local d=$1 i
    [ -f "$d/jedec" ] || echo EF4014 > "$d/jedec"
    rm -f "$d/uart.sock" "$d/tty"
    socat PTY,link="$d/tty",raw,echo=0 UNIX-LISTEN:"$d/uart.sock" 2>"$d/socat.log" &
    STUB_SOCAT=$!
    for i in $(seq 100); do [ -S "$d/uart.sock" ] && [ -e "$d/tty" ] && break; sleep 0.05; done
    [ -S "$d/uart.sock" ] || return 1
    (cd "$d" && exec qemu-system-xtensa -M sim -cpu lx106 -nographic -monitor none \
        -semihosting-config enable=on,target=native \
        -chardev socket,id=uart,path="$d/uart.sock" -serial chardev:uart \
        -kernel "$STUB_ELF") >"$d/qemu.log" 2>&1 &
    STUB_QEMU=$!
    # Hold the pty open: a client that closes and reopens it (esptool-js
    # does on a retry) must not make socat see the line hang up.
    exec 3<>"$d/tty"
}

# stub_qemu_wait SECONDS: wait for QEMU to exit; STUB_QEMU_RC is its exit
# status, or 124 when it was still running and had to be stopped.
stub_qemu_wait() {
    local i
    for i in $(seq $(($1 * 10))); do
        kill -0 "$STUB_QEMU" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$STUB_QEMU" 2>/dev/null; then
        STUB_QEMU_RC=124
        return 1
    fi
    wait "$STUB_QEMU"
    STUB_QEMU_RC=$?
    STUB_QEMU=
}
