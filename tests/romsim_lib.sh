# tests/romsim_lib.sh - running tests/tools/romsim from the shell tests.
# Sourced after tests/lib.sh, from inside $TMP.  The simulator's flash file,
# its log and its own counters are the judges.
SIM=$TOOLS/romsim
MKFW=$TOOLS/mkfw
STUB_ELF=$BUILD_DIR/stub/stub-qemu.elf

# start_sim NAME [romsim options...]: serves $TMP/NAME.tty, flash NAME.flash
start_sim() {
    local name=$1; shift
    rm -f "$name.tty"
    "$SIM" --link "$TMP/$name.tty" --flash "$TMP/$name.flash" \
        --stats "$TMP/$name.stats" --log "$TMP/$name.log" "$@" >/dev/null &
    SIM_PID=$!
    for _ in $(seq 100); do [ -e "$name.tty" ] && return 0; sleep 0.05; done
    echo "romsim did not start"; return 1
}
# start_stub_sim NAME [options...]: the same, running esp01's stub under QEMU
# once it is uploaded (line paced at the chip's rate).
start_stub_sim() {
    local name=$1; shift
    start_sim "$name" --stub --stub-elf "$STUB_ELF" --throttle "$@"
}
# Sets STUB_MISSING when the stub cannot run here.
stub_sim_available() {
    command -v qemu-system-xtensa >/dev/null ||
        { STUB_MISSING="no qemu-system-xtensa (tests/install-deps.sh)"; return 1; }
    [ -f "$STUB_ELF" ] ||
        { STUB_MISSING="no $STUB_ELF (install gcc-xtensa-lx106, run make)"; return 1; }
}
stop_sim() { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; }
stat_of() { sed -n "s/^$2=//p" "$1.stats"; }
byte() { od -An -tx1 -j "$2" -N1 "$1" | tr -d ' \n'; }
# fill NAME SIZE BYTE(octal): a flash file of one repeated byte
fill() { head -c "$2" /dev/zero | tr '\0' "\\$3" > "$1"; }
# same_range A OFFA B OFFB LEN
same_range() { cmp -s <(tail -c +$(($2 + 1)) "$1" | head -c "$5") <(tail -c +$(($4 + 1)) "$3" | head -c "$5"); }
all_byte() { # FILE OFF LEN OCTAL
    cmp -s <(tail -c +$(($2 + 1)) "$1" | head -c "$3") <(head -c "$3" /dev/zero | tr '\0' "\\$4"); }
