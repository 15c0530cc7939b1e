# esp01.exe under Wine beside build/esp01, in one run (bench/RESULTS.md,
# "esp01.exe against the Linux build"):
#   1. a 1 MiB ESP-01 image flashed through the stub at 921600 baud onto
#      tests/tools/romsim with the stub's QEMU build (line paced at the
#      chip's rate, datasheet flash timings), over flash full of noise so
#      every sector is written; RUNS runs each, alternating, medians;
#   2. `esp01.exe version` start-up under Wine, wineserver kept up;
#   3. the size of esp01.exe.
set -u
W=$(mktemp -d)
WINE=${WINE:-/usr/lib/wine/wine64}
EXE=${ESP01_EXE:-$SRCDIR/build/win64/esp01.exe}
RUNS=${RUNS:-3}
export WINEPREFIX=$W/prefix WINEDEBUG=-all ESP01_EXE=$EXE
trap 'kill $(jobs -p) 2>/dev/null; "${WINE%/*}/wineserver" -k 2>/dev/null; rm -rf "$W"' EXIT
SIM=$TOOLS/romsim
ELF=$BUILD_DIR/stub/stub-qemu.elf
for need in "$EXE" "$ELF" "$WINE"; do
    [ -e "$need" ] || { echo "windows.sh: needs $need (make windows; tests/install-deps.sh)"; exit 1; }
done
"$WINE" wineboot -i >/dev/null 2>&1
"${WINE%/*}/wineserver" -p

"$TOOLS/mkfw" --variant 1M --version v1.22.1 "$W/fw.bin" >/dev/null
mkdir -p "$W/proj" && head -c 20000 /dev/urandom | base64 >"$W/proj/main.py"
"$ESP01" build "$W/proj" --firmware "$W/fw.bin" -o "$W/img.bin" -q --flash-size 1M >/dev/null

one() { # ESP01-COMMAND NAME: seconds for one flash of img.bin
    local cmd=$1 name=$2 t0 t1
    head -c 1048576 /dev/urandom >"$W/$name.flash"
    rm -f "$W/$name.tty"
    "$SIM" --link "$W/$name.tty" --flash "$W/$name.flash" --stub --stub-elf "$ELF" \
        --throttle >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 100); do [ -e "$W/$name.tty" ] && break; sleep 0.05; done
    t0=$(date +%s.%N)
    "$cmd" flash "$W/img.bin" --port "$W/$name.tty" --baud 921600 --after no-reset \
        >"$W/$name.out" 2>&1 || { echo "flash failed: $(tail -2 "$W/$name.out")" >&2; }
    t1=$(date +%s.%N)
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    cmp -s -n "$(stat -c %s "$W/img.bin")" "$W/img.bin" "$W/$name.flash" ||
        echo "  ($name: flash differs from the image after 4 header bytes?)" >&2
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

linux=() wine=()
for i in $(seq "$RUNS"); do
    linux+=("$(one "$ESP01" l$i)")
    wine+=("$(one "$SRCDIR/tests/win32/esp01-wine" w$i)")
done
ml=$(printf '%s\n' "${linux[@]}" | median)
mw=$(printf '%s\n' "${wine[@]}" | median)
echo "stub flash, 1 MiB image at 921600 (every sector differs), $RUNS runs each:"
echo "  build/esp01            median ${ml} s  (${linux[*]})"
echo "  esp01.exe under Wine   median ${mw} s  (${wine[*]})"
awk -v l="$ml" -v w="$mw" 'BEGIN { printf "  ratio Wine / Linux     %.2fx\n", w / l }'

starts=()
for _ in 1 2 3 4 5 6; do
    t0=$(date +%s.%N); "$WINE" "$EXE" version >/dev/null 2>&1; t1=$(date +%s.%N)
    starts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
done
echo "esp01.exe version under Wine (wineserver up): median $(printf '%s\n' "${starts[@]:1}" | median) s (${starts[*]}; the first is a warm-up)"
echo "esp01.exe: $(stat -c %s "$EXE") bytes; DLLs: $(x86_64-w64-mingw32-objdump -p "$EXE" | sed -n 's/.*DLL Name: //p' | tr '\n' ' ')"
