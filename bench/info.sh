# esp01 info: wall time (hyperfine median) and peak memory (GNU time max RSS)
# on a ~600 KB firmware file and on a whole 16 MiB flash dump (the largest
# input: the file is read whole, MD5 is computed over ~600 KB, the string
# search stays inside the firmware).
set -eu
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$TOOLS/mkfw" --variant 1M "$W/fw.bin"
"$TOOLS/mkfw" --variant 2M --dump-size 16M "$W/dump16.bin"

median_ms() { awk -F, 'NR==2 { printf "%.2f", $4 * 1000 }' "$1"; }
run() {
    local name=$1; shift
    hyperfine -N --warmup 5 --runs 60 --export-csv "$W/h.csv" "$*" >/dev/null 2>&1 ||
        hyperfine --warmup 5 --runs 60 --export-csv "$W/h.csv" "$*" >/dev/null
    local rss
    rss=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1)
    printf '%-34s median %7s ms   max RSS %6s KiB\n' "$name" "$(median_ms "$W/h.csv")" "$rss"
}
run "info, 596 KiB firmware" "$ESP01" info "$W/fw.bin"
run "info --json, 596 KiB firmware" "$ESP01" info --json "$W/fw.bin"
run "info, 16 MiB flash dump" "$ESP01" info "$W/dump16.bin"
