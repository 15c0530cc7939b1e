# tests/win32/exe.sh - build/win64/esp01.exe as a file and as a Windows
# program under Wine: what it imports, how big it is, and that what it
# prints and takes is what the shell tests expect (LF line ends, exit codes,
# UTF-8 arguments).  Run by tests/win32/tier.sh with ESP01 set to
# tests/win32/esp01-wine.
. "$SRCDIR/tests/lib.sh"
EXE=${ESP01_EXE:-$SRCDIR/build/win64/esp01.exe}
OBJDUMP=${WIN_OBJDUMP:-x86_64-w64-mingw32-objdump}
STRIP=${WIN_STRIP:-x86_64-w64-mingw32-strip}
if [ ! -f "$EXE" ]; then
    fail "esp01.exe" "$EXE is not built (make windows)"
    finish
fi

# Only DLLs every Windows since 7 has: the .exe is one file, zlib and
# winpthreads linked in statically (Makefile, WIN_LDLIBS).
"$OBJDUMP" -p "$EXE" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr -d '\r' >"$TMP/dlls"
check "objdump lists imports (KERNEL32 among them)" grep -qix 'kernel32.dll' "$TMP/dlls"
grep -viE '^(kernel32|advapi32|setupapi|cfgmgr32|winhttp|ws2_32|bcrypt|msvcrt|user32|api-ms-win-crt-[a-z0-9-]+)\.dll$' \
    "$TMP/dlls" >"$TMP/other"
if [ -s "$TMP/other" ]; then fail "imports only system DLLs" "also: $(tr '\n' ' ' <"$TMP/other")"
else ok "imports only system DLLs ($(tr '\n' ' ' <"$TMP/dlls"))"; fi

# 1.5 MiB for what is shipped: the file without its debug information
# (-g stays in the build for gdb; a release strips it).
"$STRIP" -o "$TMP/esp01.exe" "$EXE"
size=$(stat -c %s "$TMP/esp01.exe")
if [ "$size" -lt 1572864 ]; then ok "stripped size $size bytes < 1.5 MiB ($(stat -c %s "$EXE") with debug info)"
else fail "stripped size < 1.5 MiB" "$size bytes"; fi

# What it prints: LF only, on stdout and stderr (the tests compare lines,
# and `esp01 cat` / `read -o -` output is binary).
expect_ok "version runs" "$ESP01" version
check "version says esp01" grep -Eq '^esp01 [0-9]' "$TMP/out"
check "stdout has LF line ends, no CR" test "$(tr -cd '\r' <"$TMP/out" | wc -c)" -eq 0
expect_fail "an unknown command exits 2" 2 "is not an esp01 command" "$ESP01" frobnicate
check "stderr has LF line ends, no CR" test "$(tr -cd '\r' <"$TMP/err" | wc -c)" -eq 0

# Arguments arrive as UTF-8 (src/os/win32/ turns the UTF-16 command line
# into UTF-8), and name files through Wine's Z: drive.
u="$TMP/fw-é€.bin"
expect_fail "a missing UTF-8 file name is quoted back as given" 1 "cannot open '$u'" "$ESP01" info "$u"
"$TOOLS/mkfw" --variant 1M --version v1.22.1 --date 2024-01-05 "$u"
expect_ok "info reads a file with a UTF-8 name" "$ESP01" info "$u"
check "and decodes it" grep -q '^version: *v1.22.1 on 2024-01-05$' "$TMP/out"
(cd "$TMP" && "$ESP01" info "fw-é€.bin" >rel.out 2>&1)
check "a relative UTF-8 name, from the current directory" grep -q '^version: *v1.22.1' "$TMP/rel.out"
finish
