#!/usr/bin/env bash
# tests/win32/tier.sh - the Windows tier: build/win64/esp01.exe under 64-bit
# Wine, through the same shell tests as build/esp01, tallied by tests/run.sh
# (one line per script, one tally line at the end).
#   make test-windows            (builds `windows` and the probe first)
#   tests/win32/tier.sh [SCRIPT...]   (default: the list below)
#
# One Wine prefix for the whole run, booted once here (`wineboot -i`, ~5 s)
# and kept warm by a persistent wineserver, so that a command costs ~0.05 s
# of Wine start instead of ~0.5 s (server start) or ~5 s (a new prefix):
# bench/RESULTS.md, "Windows under Wine".  Every script of the run uses it
# through tests/win32/esp01-wine; ptys become COM ports there.  The prefix
# and the server go at the end.
#
# The Linux build (BUILD, default build) must exist too: the scripts' own
# tools (romsim, mkfw, the stub's QEMU image) are Linux programs.
set -u
cd "$(dirname "$0")/../.."
WINE=${WINE:-/usr/lib/wine/wine64}
BUILD=${BUILD:-build}
export ESP01_EXE=${ESP01_EXE:-$PWD/build/win64/esp01.exe}

# What esp01.exe does without a real USB port: images, files, downloads
# through WinHTTP, packages, and serial lines over ptys as COM ports (romsim
# and the stub under QEMU, esptool-js, MicroPython in WebAssembly and on the
# micro:bit under QEMU behind the slow-link relay, WebREPL over TCP).
SCRIPTS=(tests/win32/exe.sh tests/win32/wine_smoke.sh tests/win32/os_probe.sh
         tests/cli/build.sh tests/cli/info.sh tests/cli/fs.sh tests/cli/fat.sh
         tests/cli/fs_fat.sh tests/cli/firmware.sh tests/cli/mip.sh
         tests/cli/rom.sh tests/cli/rom_esptool.sh tests/cli/info_esptool_js.sh
         tests/cli/stub.sh tests/cli/stub_driver.sh tests/cli/stub_esptool.sh
         tests/cli/device_wasm.sh tests/cli/device_faults.sh tests/cli/device_modules.sh
         tests/cli/device_microbit.sh tests/cli/device_webrepl.sh tests/cli/journey.sh)
# Left out, and why:
#   ports.sh, ports_macos.sh, flash_auto.sh   fake /sys and /dev trees
#                   (ESP01_SYSFS_ROOT, ESP01_DEV_ROOT) for the Linux and macOS
#                   port lists, which pick the port; Windows lists ports
#                   through SetupAPI, which Wine cannot be given fake USB
#                   devices for (wine_smoke.sh checks the list it does give).
#                   Several boards at once by --port, the part that needs
#                   no fake tree, is in journey.sh.
#   mpy_real.sh     runs mpy-cross as a Linux script (node + WebAssembly),
#                   which a Windows program cannot start; on Windows
#                   mpy-cross is an .exe.
#   arch.sh         reads the Linux objects with nm; not a run of the tool.
#   fuzz_replay.sh, stub_image.sh   Linux test programs, no esp01 command.
#   install.sh      `make install` into a Unix tree.
#   build_modules.sh  copies $ESP01 into an install tree and runs it from
#                   there (the wrapper finds the .exe from its own place).
# Known Wine artefact: a command whose stdout is a terminal (firmware.sh's
# `script -qec` progress-bar case) is drawn by Wine's console host, which
# wraps every character in cursor escapes (\e[?25l ... \e[?25h); firmware.sh
# strips them before it looks for the bar.
[ $# -gt 0 ] && SCRIPTS=("$@")
# Without the .exe, one failure (exe.sh) says so instead of one per case.
if [ ! -f "$ESP01_EXE" ]; then
    keep=(tests/win32/exe.sh)
    for s in "${SCRIPTS[@]}"; do case $s in */win32/exe.sh) ;; */win32/*) keep+=("$s") ;; esac; done
    SCRIPTS=("${keep[@]}")
fi

if [ ! -x "$WINE" ]; then
    echo "SKIP - windows tier: $WINE is not installed"
    echo "0 passed, 0 failed, 1 skipped"
    # CI installs Wine; a skip there is a failure (as in tests/run.sh).
    [ "${CI:-}" != true ]; exit
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/esp01-tier.XXXXXX")
export WINEPREFIX=$tmp/prefix WINEDEBUG=-all
# Scripts that must set a case up differently under Wine (build.sh's
# symbolic link) look at this.
export ESP01_WINE=1
WINESERVER=${WINESERVER:-$(dirname "$WINE")/wineserver}
cleanup() { "$WINESERVER" -k 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$WINEPREFIX"
t0=$(date +%s.%N)
if ! "$WINE" wineboot -i >"$tmp/wineboot.log" 2>&1; then
    echo "FAIL - wineboot -i: $(tail -3 "$tmp/wineboot.log")"
    echo "0 passed, 1 failed, 0 skipped"; exit 1
fi
touch "$WINEPREFIX/.esp01-booted"   # tests/win32/esp01-wine boots no more
"$WINESERVER" -p
echo "$("$WINE" --version): prefix $WINEPREFIX ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

ESP01=$PWD/tests/win32/esp01-wine BUILD=$BUILD tests/run.sh "${SCRIPTS[@]}"
