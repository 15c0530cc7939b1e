# esp01 build: wall time (hyperfine median) and peak memory (GNU time max RSS)
# for the ESP-01 case (10 files, ~600 KB firmware, 1 MiB image) and a large
# 2 MiB-chip project (500 files).  Targets: < 10 ms and < 4 MiB; < 50 ms.
set -eu
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$TOOLS/mkfw" --variant 1M "$W/fw1m.bin"
"$TOOLS/mkfw" --variant 2M "$W/fw2m.bin"
mkdir -p "$W/p10/lib" "$W/p500"
for i in 0 1 2 3 4 5 6 7; do
    head -c $((300 + i * 900)) /dev/urandom | base64 > "$W/p10/lib/mod$i.py"
done
printf 'import gc\ngc.collect()\n' > "$W/p10/boot.py"
head -c 4000 /dev/urandom | base64 > "$W/p10/main.py"
# 500 files on a 251-block partition: most must be small enough to be
# stored inline (<= 128 bytes), as each larger file takes a whole block.
for i in $(seq 1 500); do
    d="$W/p500/d$((i % 20))"; mkdir -p "$d"
    if [ $((i % 5)) -eq 0 ]; then n=$(( (i * 37) % 3000 + 200 )); else n=$(( (i * 13) % 120 + 1 )); fi
    head -c "$n" /dev/urandom > "$d/f$i.txt"
done

median_ms() { awk -F, 'NR==2 { printf "%.2f", $4 * 1000 }' "$1"; }
run() {
    local name=$1; shift
    hyperfine -N --warmup 5 --runs 60 --export-csv "$W/h.csv" "$*" >/dev/null 2>&1 ||
        hyperfine --warmup 5 --runs 60 --export-csv "$W/h.csv" "$*" >/dev/null
    local rss
    rss=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1)
    printf '%-34s median %7s ms   max RSS %6s KiB\n' "$name" "$(median_ms "$W/h.csv")" "$rss"
}
fwk=$(( $(stat -c %s "$W/fw1m.bin") / 1024 ))
echo "firmware ${fwk} KiB; 10-file project $(du -sb "$W/p10" | cut -f1) bytes; 500-file project $(du -sb "$W/p500" | cut -f1) bytes"
run "process start only (esp01 version)" "$ESP01" version
run "build 1M, 10 files" "$ESP01" build "$W/p10" --firmware "$W/fw1m.bin" -o "$W/o1.bin" -q --mtime 1
run "build 2M, 500 files" "$ESP01" build "$W/p500" --firmware "$W/fw2m.bin" --flash-size 2M -o "$W/o2.bin" -q --mtime 1
run "build 1M partition only, no firmware" "$ESP01" build "$W/p10" -o "$W/o3.bin" -q --mtime 1
