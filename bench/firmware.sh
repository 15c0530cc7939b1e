# `esp01 firmware get` of a release already in the cache (target < 10 ms):
# the cache is listed, the file read and checked again (checksum, MD5
# trailer, banner) and its path printed; no network (the base URL points at
# a closed port, so a request would fail, not wait).  Beside it, what
# linking libcurl would cost every esp01 command at start-up: two trivial
# programs, one linked with -lcurl, one not.
set -eu
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export ESP01_CACHE_DIR=$W/cache ESP01_FIRMWARE_URL=http://127.0.0.1:9
mkdir -p "$W/cache"
"$TOOLS/mkfw" --variant 1M --version v1.24.1 --date 2024-11-29 \
    "$W/cache/ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin"
for v in 1.20.0 1.21.0 1.22.0 1.23.0; do  # a cache with a few releases in it
    "$TOOLS/mkfw" --variant 1M --version "v$v" "$W/cache/ESP8266_GENERIC-FLASH_1M-20240101-v$v.bin"
done
"$ESP01" firmware get 1.24.1 >/dev/null 2>&1 || { echo "firmware.sh: get failed"; exit 1; }

median_ms() { awk -F, 'NR==2 { printf "%.2f", $4 * 1000 }' "$1"; }
run() {
    local name=$1; shift
    hyperfine -N --warmup 5 --runs 60 --export-csv "$W/h.csv" "$*" >/dev/null 2>&1
    printf '%-46s median %7s ms\n' "$name" "$(median_ms "$W/h.csv")"
}
run "esp01 version (process start)" "$ESP01" version
run "esp01 firmware get 1.24.1 (cached, 596 KiB)" "$ESP01" firmware get 1.24.1
run "esp01 firmware path (newest cached)" "$ESP01" firmware path

printf 'int main(void) { return 0; }\n' > "$W/t.c"
if cc -O2 "$W/t.c" -o "$W/plain" && cc -O2 "$W/t.c" -o "$W/curl" -Wl,--no-as-needed -lcurl; then
    run "empty program" "$W/plain"
    run "empty program linked with -lcurl" "$W/curl"
    echo "libraries loaded with -lcurl: $(ldd "$W/curl" | wc -l)"
fi
