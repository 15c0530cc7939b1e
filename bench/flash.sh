# Flashing through esp01's flasher stub against the ROM loader path, on
# tests/tools/romsim with the stub's QEMU build, the line paced at the
# chip's baud rate and the fake flash taking the W25Q80DV datasheet's time
# (sector erase 45 ms, 64 KiB block erase 150 ms, page program 0.7 ms):
#   1. a 1 MiB ESP-01 image (v1.22.1-sized firmware + small project) over
#      flash full of noise (every sector must change): ROM path at 115200,
#      stub at 460800 and 921600; wire bytes, wall time, flash == image;
#   2. the same image re-flashed after changing main.py (only what differs),
#      with a fresh chip (stub uploaded) and with the stub left running;
#   3. reading the whole chip back at 921600;
#   4. STUB_RUNS fault-injection runs through the stub.
# The firmware stand-in compresses like a real one: lx106 machine code from
# Debian's picolibc with 20% of its bytes replaced by noise, which zlib -9
# takes to 67% (esptool#890 reports 597664 -> 398357 bytes, 66.7%, for an
# ESP8266 application image).
set -u
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$W"' EXIT
SIM=$TOOLS/romsim
ELF=$BUILD_DIR/stub/stub-qemu.elf
STUB_RUNS=${STUB_RUNS:-200}
if [ ! -f "$ELF" ] || ! command -v qemu-system-xtensa >/dev/null; then
    echo "flash.sh: needs $ELF and qemu-system-xtensa"; exit 1
fi

start_sim() { # NAME options...
    local name=$1; shift
    "$SIM" --link "$W/$name.tty" --flash "$W/$name.flash" --stats "$W/$name.stats" \
        --log "$W/$name.log" --stub --stub-elf "$ELF" "$@" >/dev/null &
    echo $! > "$W/$name.pid"
    for _ in $(seq 100); do [ -e "$W/$name.tty" ] && return 0; sleep 0.05; done
    return 1
}
stop_sim() { local p; p=$(cat "$W/$1.pid"); kill "$p"; wait "$p" 2>/dev/null; }
stat_of() { sed -n "s/^$2=//p" "$W/$1.stats"; }
now() { date +%s.%N; }

# The firmware stand-in and the project.
: > "$W/code.bin"
for lib in /usr/lib/xtensa-lx106-elf/lib/release/libc.a /usr/lib/xtensa-lx106-elf/lib/release/libm.a; do
    d=$(mktemp -d); (cd "$d" && xtensa-lx106-elf-ar x "$lib")
    for o in "$d"/*.o; do
        xtensa-lx106-elf-objcopy -O binary --only-section='.text*' --only-section='.literal*' \
            --only-section='.rodata*' "$o" "$o.bin" 2>/dev/null && cat "$o.bin" >> "$W/code.bin"
    done
    rm -rf "$d"
done
"$TOOLS/mkfw" --variant 1M --code "$W/code.bin" --code-noise 20 "$W/fw.bin"
fwz=$(gzip -9 -c "$W/fw.bin" | wc -c)
mkdir -p "$W/proj/lib"
printf 'import gc\ngc.collect()\n' > "$W/proj/boot.py"
head -c 4000 /dev/urandom | base64 > "$W/proj/main.py"
for i in 1 2 3 4 5; do head -c 1500 /dev/urandom | base64 > "$W/proj/lib/m$i.py"; done
"$ESP01" build "$W/proj" --firmware "$W/fw.bin" -o "$W/img.bin" -q >/dev/null
len=$(stat -c %s "$W/img.bin")
echo "image: $len bytes; firmware stand-in $(stat -c %s "$W/fw.bin") bytes, zlib -9 $fwz bytes ($((100 * fwz / $(stat -c %s "$W/fw.bin")))%)"
head -c 1048576 /dev/urandom > "$W/noise.bin"

# one_flash NAME BAUD [esp01 options...]: flash img.bin over noise, print a line
one_flash() {
    local name=$1 baud=$2; shift 2
    cp "$W/noise.bin" "$W/$name.flash"
    start_sim "$name" --throttle
    local t0 t1
    t0=$(now)
    "$ESP01" flash "$W/img.bin" --port "$W/$name.tty" --baud "$baud" --after no-reset "$@" \
        >"$W/$name.out" 2>"$W/$name.err"
    local rc=$?
    t1=$(now)
    stop_sim "$name"
    local same=NO
    cmp -s <(tail -c +5 "$W/img.bin") <(tail -c +5 "$W/$name.flash" | head -c $((len - 4))) && same=yes
    local rx; rx=$(stat_of "$name" rx_bytes)
    echo "$name $baud $rc $(echo "$t1 - $t0" | bc) $rx $same"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "-- 1. 1 MiB image over noise (wall time from connect to done, bytes the chip received)"
rom=$(one_flash rom 115200 --no-stub)
s460=$(one_flash s460 460800)
s921=$(one_flash s921 921600)
for r in "$rom" "$s460" "$s921"; do
    set -- $r
    printf '%-5s %7s baud  exit %s  %6.1f s  %8d bytes on the wire (%4.1f%% of the image)  flash == image: %s\n' \
        "$1" "$2" "$3" "$4" "$5" "$(echo "100 * $5 / $len" | bc -l)" "$6"
done
tr=$(echo "$rom" | cut -d' ' -f4); t9=$(echo "$s921" | cut -d' ' -f4); t4=$(echo "$s460" | cut -d' ' -f4)
printf 'stub at 921600 is %.1fx faster than the ROM path at 115200; at 460800 %.1fx\n' \
    "$(echo "$tr / $t9" | bc -l)" "$(echo "$tr / $t4" | bc -l)"
grep '^Wrote' "$W/s921.out" | sed 's/^/  s921: /'

echo "-- 2. re-flash after changing main.py, 921600"
cp "$W/img.bin" "$W/re.flash"
printf 'print("changed")\n' >> "$W/proj/main.py"
"$ESP01" build "$W/proj" --firmware "$W/fw.bin" -o "$W/img2.bin" -q >/dev/null
# The chip holds the first image as esp01 flash left it (header patched).
start_sim re --throttle
"$ESP01" flash "$W/img.bin" --port "$W/re.tty" --baud 921600 --after no-reset >/dev/null 2>&1
stop_sim re
start_sim re --throttle
t0=$(now)
"$ESP01" flash "$W/img2.bin" --port "$W/re.tty" --baud 921600 --after no-reset >"$W/re.out" 2>"$W/re.err"
rc=$?
t1=$(now)
stop_sim re
same=NO
cmp -s <(tail -c +5 "$W/img2.bin") <(tail -c +5 "$W/re.flash" | head -c $(( $(stat -c %s "$W/img2.bin") - 4 ))) && same=yes
printf 're-flash: exit %s, %.2f s from connect to verified, %d bytes on the wire, flash == image: %s\n' \
    "$rc" "$(echo "$t1 - $t0" | bc)" "$(stat_of re rx_bytes)" "$same"
sed 's/^/  /' "$W/re.out"
start_sim re --throttle
t0=$(now)
"$ESP01" flash "$W/img2.bin" --port "$W/re.tty" --baud 921600 --after no-reset --full >"$W/full.out" 2>&1
t1=$(now)
stop_sim re
printf 'same image with --full: %.2f s\n' "$(echo "$t1 - $t0" | bc)"
# The stub left running by a session with --after no-reset: the next one
# finds it and uploads nothing.
cp "$W/img.bin" "$W/kept.flash"
start_sim kept --throttle
"$ESP01" flash "$W/img.bin" --port "$W/kept.tty" --baud 921600 --after no-reset >/dev/null 2>&1
t0=$(now)
"$ESP01" flash "$W/img2.bin" --port "$W/kept.tty" --baud 921600 --after no-reset >"$W/kept.out" 2>"$W/kept.err"
rc=$?
t1=$(now)
stop_sim kept
same=NO
cmp -s <(tail -c +5 "$W/img2.bin") <(tail -c +5 "$W/kept.flash" | head -c $(( $(stat -c %s "$W/img2.bin") - 4 ))) && same=yes
printf 're-flash with the stub still running: exit %s, %.2f s, found it: %s, flash == image: %s\n' \
    "$rc" "$(echo "$t1 - $t0" | bc)" "$(grep -q 'already running' "$W/kept.err" && echo yes || echo NO)" "$same"

echo "-- 3. whole-chip read at 921600"
cp "$W/noise.bin" "$W/rd.flash"
start_sim rd --throttle
t0=$(now)
"$ESP01" read -o "$W/dump.bin" --port "$W/rd.tty" --baud 921600 --after no-reset >"$W/rd.out" 2>&1
t1=$(now)
stop_sim rd
same=NO; cmp -s "$W/dump.bin" "$W/noise.bin" && same=yes
printf 'read 1 MiB: %.1f s wall (%.1f KB/s including connect and stub upload), dump == flash: %s\n' \
    "$(echo "$t1 - $t0" | bc)" "$(echo "1048576 / ($t1 - $t0) / 1000" | bc -l)" "$same"
sed 's/^/  /' "$W/rd.out" | grep '^  Read'

echo "load average after 1-3: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "-- 4. $STUB_RUNS fault-injection runs through the stub (unthrottled)"
head -c 200000 /dev/urandom > "$W/fimg.bin"
head -c 8192 /dev/zero | tr '\0' '\377' | dd of="$W/fimg.bin" bs=4096 seek=5 conv=notrunc 2>/dev/null
one_run() {
    local seed=$1 name="f$1"
    head -c 1048576 /dev/zero > "$W/$name.flash"
    start_sim "$name" --seed "$seed" --drop 0.01 --corrupt 0.01 --stall 0.002 --stall-ms 1500 --reset 0.002
    "$ESP01" flash "$W/fimg.bin" --port "$W/$name.tty" --after no-reset --baud 921600 \
        >"$W/$name.out" 2>"$W/$name.err"
    local rc=$?
    stop_sim "$name"
    if [ $rc -eq 0 ]; then
        if cmp -s "$W/fimg.bin" <(head -c 200000 "$W/$name.flash"); then echo success
        else echo SILENT; echo "seed $seed: done but flash differs" >&2; fi
    elif grep -Eq '^esp01: .* at 0x[0-9a-f]{6}' "$W/$name.err"; then echo clean-error
    elif cmp -s "$W/$name.flash" <(head -c 1048576 /dev/zero); then echo error-before-writing
    else echo unclear-error; sed 's/^/  /' "$W/$name.err" >&2; fi
    grep -q 'did not start' "$W/$name.err" && echo "fallback"
    echo "faults $(stat_of "$name" faults_drop) $(stat_of "$name" faults_corrupt) $(stat_of "$name" faults_stall) $(stat_of "$name" faults_reset)"
    rm -f "$W/$name".*
}
export -f one_run start_sim stop_sim stat_of
export W SIM ESP01 ELF
seq 1 "$STUB_RUNS" | xargs -P 2 -I{} bash -c 'one_run {}' > "$W/faults.txt"
awk '/^faults/ { d += $2; c += $3; s += $4; r += $5; next } { n[$1]++ }
     END { printf "fault runs: %d successes (flash == image), %d clean errors naming the offset, %d clean errors before anything was written, %d unclear errors, %d SILENT corruptions (%d went on through the ROM loader); injected: %d dropped, %d corrupted, %d stalls, %d resets\n",
           n["success"], n["clean-error"], n["error-before-writing"], n["unclear-error"], n["SILENT"], n["fallback"], d, c, s, r }' "$W/faults.txt"
! grep -q SILENT "$W/faults.txt"
