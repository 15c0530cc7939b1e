# Several boards at once (target: 4 boards in at most 1.3x the time of one).
# Each board is tests/tools/romsim, the line paced at the chip's baud rate
# (--throttle) and the fake flash taking datasheet time, over flash full of
# noise so every sector is written.  The same project (a 1M firmware from
# mkfw + 7 files) goes to one board with `esp01 flash PROJECT --port A`,
# then to four with `--port A --port B --port C --port D`: wall time of the
# whole command (build, connect, stub upload, write, MD5 check), medians of
# RUNS runs, and the CPU time esp01 and the simulators used.  Every flash
# file is compared with the image.  Two ways: esp01's flasher stub running
# under QEMU (the default path), and the ROM loader (--no-stub), whose
# simulator needs no QEMU.
set -u
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$W"' EXIT
SIM=$TOOLS/romsim
ELF=$BUILD_DIR/stub/stub-qemu.elf
RUNS=${RUNS:-3}
if [ ! -f "$ELF" ] || ! command -v qemu-system-xtensa >/dev/null; then
    echo "fleet.sh: needs $ELF and qemu-system-xtensa"; exit 1
fi
"$TOOLS/mkfw" --variant 1M "$W/fw.bin" >/dev/null
mkdir -p "$W/proj/lib"
printf 'import gc\ngc.collect()\n' > "$W/proj/boot.py"
head -c 4000 /dev/urandom | base64 > "$W/proj/main.py"
for i in 1 2 3 4 5; do head -c 1500 /dev/urandom | base64 > "$W/proj/lib/m$i.py"; done
"$ESP01" build "$W/proj" --firmware "$W/fw.bin" -o "$W/img.bin" -q >/dev/null
len=$(stat -c %s "$W/img.bin")
head -c 1048576 /dev/urandom > "$W/noise.bin"

SIMOPT=
start_sims() { # NAMES...
    local n
    for n in "$@"; do
        cp "$W/noise.bin" "$W/$n.flash"
        rm -f "$W/$n.tty"
        "$SIM" --link "$W/$n.tty" --flash "$W/$n.flash" --log "$W/$n.log" $SIMOPT \
            --throttle >/dev/null &
        echo $! > "$W/$n.pid"
    done
    for n in "$@"; do
        for _ in $(seq 100); do [ -e "$W/$n.tty" ] && break; sleep 0.05; done
    done
}
# CPU seconds the simulators (romsim and its QEMU) used, read before they end.
sim_cpu() {
    local n p total=0
    for n in "$@"; do
        for p in $(cat "$W/$n.pid") $(pgrep -P "$(cat "$W/$n.pid")"); do
            total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
        done
    done
    echo "$total / $(getconf CLK_TCK)" | bc -l
}
stop_sims() {
    local n
    sim_cpu "$@" >> "$W/sim.cpu"
    for n in "$@"; do kill "$(cat "$W/$n.pid")"; wait "$(cat "$W/$n.pid")" 2>/dev/null; done
}
same() { cmp -s <(tail -c +5 "$W/img.bin") <(tail -c +5 "$W/$1.flash" | head -c $((len - 4))); }
now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cpu() { awk '{ printf "%.1f", $1 + $2 }' "$1"; }

bad=0
# mode NAME RUNS SIMOPT [esp01 flash options]: one board, then four, RUNS times
mode() {
    local name=$1 runs=$2 r t0 t1 n
    SIMOPT=$3
    shift 3
    : > "$W/one.t"; : > "$W/four.t"; : > "$W/sim.cpu"
    echo "-- $name"
    for r in $(seq "$runs"); do
        start_sims a
        t0=$(now)
        /usr/bin/time -f '%U %S' -o "$W/one.cpu" "$ESP01" flash "$W/proj" --firmware "$W/fw.bin" \
            --port "$W/a.tty" --after no-reset "$@" >"$W/one.out" 2>&1 || bad=1
        t1=$(now)
        stop_sims a
        same a || bad=1
        echo "$t1 - $t0" | bc >> "$W/one.t"
        start_sims a b c d
        t0=$(now)
        /usr/bin/time -f '%U %S' -o "$W/four.cpu" "$ESP01" flash "$W/proj" --firmware "$W/fw.bin" \
            --port "$W/a.tty" --port "$W/b.tty" --port "$W/c.tty" --port "$W/d.tty" \
            --after no-reset "$@" >"$W/four.out" 2>&1 || bad=1
        t1=$(now)
        stop_sims a b c d
        for n in a b c d; do same $n || bad=1; done
        echo "$t1 - $t0" | bc >> "$W/four.t"
        printf 'run %d: one board %.1f s (CPU: esp01 %s s, simulator %.1f s); four boards %.1f s (CPU: esp01 %s s, simulators %.1f s)\n' \
            "$r" "$(tail -1 "$W/one.t")" "$(cpu "$W/one.cpu")" "$(sed -n "$((2 * r - 1))p" "$W/sim.cpu")" \
            "$(tail -1 "$W/four.t")" "$(cpu "$W/four.cpu")" "$(sed -n "$((2 * r))p" "$W/sim.cpu")"
    done
    local one four
    one=$(median < "$W/one.t")
    four=$(median < "$W/four.t")
    printf '%s: medians of %d: one board %.1f s, four boards %.1f s = %.2fx\n' \
        "$name" "$runs" "$one" "$four" "$(echo "$four / $one" | bc -l)"
    sed 's/^/  /' "$W/four.out" | tail -5
}

echo "image $len bytes; CPUs: $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
mode "flasher stub under QEMU, 460800 baud" "$RUNS" "--stub --stub-elf $ELF"
mode "ROM loader (--no-stub), 115200 baud" "${ROM_RUNS:-1}" "" --no-stub
echo "every flash == image: $([ $bad = 0 ] && echo yes || echo NO)"
[ $bad = 0 ]
