# `esp01 ports` on a machine with 10 USB serial ports (target < 20 ms): the
# fake sysfs tree of the tests (tests/ports_lib.sh: usb-serial and cdc_acm
# entries, by-path links, platform ttys that are skipped), read through
# ESP01_SYSFS_ROOT / ESP01_DEV_ROOT.
set -eu
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
TMP=$W
. "$SRCDIR/tests/ports_lib.sh"
fake_machine "$W/m"
: > "$W/node"
for i in 0 1 2 3 4 5 6; do fake_usb_serial "ttyUSB$i" ch341-uart 1a86 7523 "" "$((i + 1))" "$W/node"; done
fake_usb_serial ttyUSB7 cp210x 10c4 ea60 0001 8 "$W/node"
fake_cdc_acm ttyACM0 303a 1001 "A0:B7:65:01:02:03" 9 "$W/node"
fake_cdc_acm ttyACM1 2e8a 0005 E6614C 10 "$W/node"
for i in 0 1 2 3; do fake_platform_tty "ttyS$i"; done
export ESP01_SYSFS_ROOT=$FSYS ESP01_DEV_ROOT=$FDEV
n=$("$ESP01" ports | grep -c '^/')
[ "$n" -eq 10 ] || { echo "ports.sh: $n ports listed, not 10"; exit 1; }

median_ms() { awk -F, 'NR==2 { printf "%.2f", $4 * 1000 }' "$1"; }
run() {
    local name=$1; shift
    hyperfine -N --warmup 5 --runs 60 --export-csv "$W/h.csv" "$*" >/dev/null 2>&1
    printf '%-34s median %7s ms\n' "$name" "$(median_ms "$W/h.csv")"
}
run "esp01 version (process start)" "$ESP01" version
run "esp01 ports, 10 ports" "$ESP01" ports
run "esp01 ports --json, 10 ports" "$ESP01" ports --json
