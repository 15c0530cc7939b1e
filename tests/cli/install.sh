# make install: the tool, library, headers, device modules, the manual page
# (written from the binary's help texts) and bash completion for commands,
# options, option values and serial ports.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/ports_lib.sh"
cd "$TMP" || exit 1
rel=${BUILD_DIR#"$SRCDIR"/}
san=; case $rel in *san*) san=SAN=1 ;; esac
expect_ok "make install" make -C "$SRCDIR" -s install $san BUILD="$rel" DESTDIR="$TMP/inst" PREFIX=/usr
I=$TMP/inst/usr
check "installed: the tool" test -x "$I/bin/esp01"
check "installed: library and headers" test -f "$I/lib/libesp01.a" -a -f "$I/include/esp01/firmware.h"
check "installed: device modules" test -f "$I/share/esp01/device/wifitools.py"
check "installed: man page" test -f "$I/share/man/man1/esp01.1"
check "installed: bash completion" test -f "$I/share/bash-completion/completions/esp01"

# ---- the manual page --------------------------------------------------------------
M=$I/share/man/man1/esp01.1
missing=
for c in $("$ESP01" help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p'); do
    case $c in help|version) continue ;; esac
    grep -q "^\.SS $c\$" "$M" || missing="$missing $c"
done
check "man: a section for every command ($missing)" test -z "$missing"
check "man: each section holds the command's --help" grep -qF 'esp01 firmware list [\-\-variant V] [\-\-all]' "$M"
check "man: the environment" grep -q '^\.B ESP01_FIRMWARE_URL$' "$M"
if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww -z "$M" > groff.out 2>&1
    check "man: groff formats it without a warning" test ! -s groff.out
    check "man: it reads back as text" sh -c "groff -man -Tutf8 '$M' 2>/dev/null | grep -q 'several boards at once'"
else
    skip "man: groff" "no groff (groff-base)"
fi

# ---- bash completion -------------------------------------------------------------------
# complete WORDS...: what the completion offers for the last word.
complete_words() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _esp01; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$I/share/bash-completion/completions/esp01" "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}
E=$I/bin/esp01
check "completion: commands" test "$(complete_words "$E" fi)" = "firmware"
check "completion: commands starting fl" test "$(complete_words "$E" f)" = "firmware flash fs"
check "completion: a command's options, from its --help" \
    test "$(complete_words "$E" flash --fi)" = "--firmware"
check "completion: --all-ports and --board-config for flash" \
    test "$(complete_words "$E" flash --a)" = "--after --all-ports"
check "completion: firmware subcommands" test "$(complete_words "$E" firmware g)" = "get"
check "completion: mip subcommands" test "$(complete_words "$E" mip i)" = "install"
check "completion: mip install's options" test "$(complete_words "$E" mip install --i)" = "--index"
check "completion: build --no-mpy and --update" test "$(complete_words "$E" build --no-m)" = "--no-mpy"
check "completion: --variant values" test "$(complete_words "$E" firmware get --variant g)" = "generic"
check "completion: the command after a + in a chain" \
    test "$(complete_words "$E" put a.py : + res)" = "reset"
fake_machine "$TMP/m"
fake_usb_serial ttyUSB0 ch341-uart 1a86 7523 "" 1 /dev/null
fake_cdc_acm ttyACM0 303a 1001 "" 2 /dev/null
: > "$FDEV/ttyS0"
got=$(ESP01_DEV_ROOT=$FDEV complete_words "$E" probe --port "$FDEV/tty")
check "completion: serial ports after --port ($got)" test "$got" = "$FDEV/ttyACM0 $FDEV/ttyUSB0"
got=$(ESP01_DEV_ROOT=$FDEV complete_words "$E" ls -p "$FDEV/serial/")
check "completion: by-path names too" test "$got" = "$FDEV/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0 $FDEV/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0"
mkdir -p proj && : > proj/main.py
check "completion: local files otherwise" test "$(complete_words "$E" build pro)" = "proj"
check "completion: nothing for a board path" test -z "$(complete_words "$E" cat :ma)"
finish
