#!/usr/bin/env bash
# Install what building and testing esp01 needs on a Debian machine:
# the compiler and libraries (libcurl: its headers, and the library esp01
# loads for downloads), the real peers the tests talk to (mtools and
# dosfstools for FAT, QEMU + micro:bit MicroPython, node + npm packages from
# the lockfile, openssl for the download tests' CA, groff to check the man
# page), clang's libFuzzer runtime, and the lx106 cross compiler and QEMU
# that build and run the flasher stub (docs/stub.md), and the mingw-w64
# cross compiler, its zlib and 64-bit Wine for the Windows build and tier.  Safe to run again.
set -eu
cd "$(dirname "$0")/.."
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
pkgs="build-essential clang libclang-rt-14-dev zlib1g-dev libmd-dev libcurl4-openssl-dev
      openssl bsdutils groff-base
      mtools dosfstools qemu-system-arm firmware-microbit-micropython
      socat valgrind hyperfine time bc
      gcc-xtensa-lx106 picolibc-xtensa-lx106-elf qemu-system-misc
      gcc-mingw-w64-x86-64 libz-mingw-w64-dev wine64"
# A machine may carry its own Node.js build with npm inside it; Debian's npm
# package conflicts with that, so only ask Debian for node when it is absent.
command -v node >/dev/null || pkgs="$pkgs nodejs"
command -v npm >/dev/null || pkgs="$pkgs npm"
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
command -v npm >/dev/null
(cd tests/peers && npm ci --no-audit --no-fund --loglevel=error)
