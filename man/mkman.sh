#!/bin/sh
# Write esp01's manual page (roff, on stdout) from the program's own help:
# `esp01 help` for the command list and each command's --help for its
# section, so the page says what the binary does.  help2man does the same
# for one --help text; esp01 has one per command.
#   sh man/mkman.sh build/esp01 > build/esp01.1
set -eu
E=$1
version=$("$E" version | sed 's/^esp01 //')
# roff: a backslash is \e, a minus \-; a line starting with . or ' would
# be a request.
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }

printf '.TH ESP01 1 "" "esp01 %s" "User Commands"\n' "$version"
cat <<'END'
.SH NAME
esp01 \- get MicroPython programs onto ESP\-01 (ESP8266) boards, with no Python on the host
.SH SYNOPSIS
.B esp01
.I command
[\fIoptions\fR] [\fIarguments\fR] [\fB+\fR \fIcommand\fR ...]
.SH DESCRIPTION
.B esp01
builds flash images from a stock MicroPython firmware and a project folder,
downloads and caches MicroPython's official ESP8266 firmware, writes the flash
through the ESP8266's ROM loader (with its own flasher stub), and works with
files and code on a running board over MicroPython's raw REPL.
.PP
.B esp01 flash
.I PROJECT
alone finds the USB serial port, reads the chip's flash size, takes the newest
official firmware for it, builds and writes the image.
Device commands chained with
.B +
share one connection.
.SH COMMANDS
END
"$E" help | sed -n 's/^  \([a-z][a-z]*\)  *\(.*\)$/\1 \2/p' | while read -r cmd summary; do
    case $cmd in help|version) continue ;; esac
    printf '.SS %s\n%s\n.PP\n.nf\n' "$cmd" "$(printf '%s\n' "$summary" | esc)"
    "$E" "$cmd" --help 2>&1 | esc
    printf '.fi\n'
done
cat <<'END'
.SH ENVIRONMENT
.TP
.B ESP01_PORT
the serial port when no \fB\-\-port\fR is given; without both, the only USB
serial port is used (\fBesp01 ports\fR lists them)
.TP
.B ESP01_FIRMWARE_URL
where official firmware comes from (default https://micropython.org)
.TP
.B ESP01_CACHE_DIR
the firmware cache (default \fI$XDG_CACHE_HOME/esp01/firmware\fR, else
\fI~/.cache/esp01/firmware\fR; on Windows
\fI%LOCALAPPDATA%\eesp01\efirmware\fR)
.TP
.B ESP01_HTTP_TIMEOUT
seconds without data before a download is abandoned (default 30)
.TP
.B ESP01_CA_BUNDLE
a PEM file of certificate authorities to trust instead of the system's
.TP
.BR http_proxy ", " https_proxy ", " no_proxy ", " all_proxy
proxies for downloads, as libcurl reads them
.TP
.B ESP01_NO_PASTE
set to 1: never use MicroPython's raw\-paste mode
.TP
.B ESP01_DEVICE_DIR
where the shipped on\-device modules are
.TP
.B SOURCE_DATE_EPOCH
the file time stamps of a reproducible image
.SH EXIT STATUS
0 when the command did what was asked, 1 when it failed, 2 for a wrong
command line; several boards at once: 0 only if every board was written.
.SH FILES
.TP
.I ~/.cache/esp01/firmware/
downloaded firmware, under its published names
.SH SEE ALSO
.BR esptool (1),
.BR mpremote (1)
END
