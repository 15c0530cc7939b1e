# The tree keeps the shape docs/architecture.md draws.  Read off the real
# objects (nm), not off #include lines: a call is a dependency whether or not
# a header names it.
#   - no cycles between source files of the library;
#   - folders depend one way, down the layers below;
#   - no .c file over 800 lines, no function over 120 lines;
#   - OS-specific code (#ifdef _WIN32 and friends) only in src/os/;
#   - every folder under src/ says what it owns (README.md).
. "$(dirname "$0")/../lib.sh"
cd "$SRCDIR"

# Layer of each folder: a file may use files of its own folder and of lower
# layers only.  Same-layer folders are independent of each other.
layer() {
    case $1 in
        util) echo 0 ;;
        os) echo 1 ;;
        image|fs) echo 2 ;;
        firmware|flash|device|build|pkg) echo 3 ;;
        probe) echo 4 ;;
        cli) echo 5 ;;
        *) echo unknown ;;
    esac
}
# none NAME LIST: the case passes when LIST (what broke the rule) is empty.
none() { if [ -z "$2" ]; then ok "$1"; else fail "$1" "$2"; fi; }
folder() { local p=${1#src/}; echo "${p%%/*}"; }

objs=$(cd "$BUILD_DIR" && find src -name '*.o' | sort)
if [ -z "$objs" ]; then
    fail "objects to read" "no objects under $BUILD_DIR/src"; finish
fi
# "D file symbol" for what a file defines, "U file symbol" for what it uses.
for o in $objs; do
    f=${o%.o}.c
    [ -f "$f" ] || continue   # left over from a file since moved or removed
    nm "$BUILD_DIR/$o" | awk -v f="$f" '$1 == "U" { print "U", f, $2; next }
                                        $2 ~ /^[TDBRC]$/ { print "D", f, $3 }'
done >"$TMP/syms"
awk '$1 == "D" { def[$3] = $2; next }
     { use[NR] = $2 " " $3 }
     END { for (i in use) { split(use[i], a, " ");
                            if ((a[2] in def) && def[a[2]] != a[1]) print a[1], def[a[2]] } }' \
    "$TMP/syms" | sort -u >"$TMP/edges"
check "dependency graph read ($(wc -l <"$TMP/edges") file edges)" test "$(wc -l <"$TMP/edges")" -gt 100

# tsort names every loop it finds on stderr.
tsort "$TMP/edges" >/dev/null 2>"$TMP/loops"
if [ -s "$TMP/loops" ]; then
    fail "no cycles between files" "$(grep -v 'input contains a loop' "$TMP/loops" | sed 's/^tsort: //' | tr '\n' ' ')"
else ok "no cycles between files"; fi

bad=
while read -r from to; do
    ff=$(folder "$from"); ft=$(folder "$to")
    [ "$ff" = "$ft" ] && continue
    lf=$(layer "$ff"); lt=$(layer "$ft")
    if [ "$lf" = unknown ] || [ "$lt" = unknown ] || [ "$lf" -le "$lt" ]; then
        bad="$bad $from->$to"
    fi
done <"$TMP/edges"
none "folders depend one way (cli > probe > build,flash,device,firmware,pkg > image,fs > os > util)" "$bad"

# Lines per .c file.  src/flash/stub_image.c is generated data.
big=
for f in $(find src stub tests/tools bench fuzz -name '*.c' ! -name stub_image.c | sort); do
    n=$(wc -l <"$f"); [ "$n" -gt 800 ] && big="$big $f($n)"
done
none "no .c file over 800 lines" "$big"

# A function body runs from a '{' in column 0 to the next '}' in column 0
# (the project's style, which the header comments follow too).
long=$(awk 'FNR == 1 { start = 0 }
            /^\{/ { start = FNR; next }
            /^\}/ && start { if (FNR - start + 1 > 120) printf " %s:%d(%d)", FILENAME, start, FNR - start + 1; start = 0 }' \
       $(find src stub tests/tools bench fuzz -name '*.c' ! -name stub_image.c | sort))
none "no function over 120 lines" "$long"

osdef=$(grep -rlE '^#\s*if(def|ndef)?\s*.*\b(_WIN32|__APPLE__|__linux__|_MSC_VER|__MINGW)' src include | grep -v '^src/os/' | tr '\n' ' ')
none "OS conditionals only in src/os/" "$osdef"

# System headers beyond C11 (POSIX, BSD sockets, libc extensions) only in
# src/os/posix/: the rest reaches the system through src/os/os.h, so a
# Windows build is a new src/os/ folder, not edits all over the tree.
posix_includes() {
    grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(unistd|fcntl|poll|termios|dirent|netdb|grp|pwd|fnmatch|glob|dlfcn|pthread|libgen|spawn|sys/[a-z_]+|netinet/[a-z_]+|arpa/[a-z_]+|mach-o/[a-z_]+)\.h>' \
        --include='*.c' --include='*.h' "$@" 2>/dev/null | sort
}
# (src/os/win32/ may use MinGW's <fcntl.h> for _O_BINARY.)
posix=$(posix_includes src include | grep -Ev '^src/os/(posix|win32)/' | tr '\n' ' ')
none "POSIX headers only in src/os/posix/" "$posix"
win=$(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(windows|winsock2|ws2tcpip|io|conio|process|setupapi|cfgmgr32|winhttp|bcrypt|devguid|initguid|shlobj)\.h>' \
          --include='*.c' --include='*.h' src include 2>/dev/null | grep -v '^src/os/win32/' | sort | tr '\n' ' ')
none "Windows headers only in src/os/win32/" "$win"

# macOS builds src/os/posix/ without its *_linux.c files (src/os/README.md):
# what only Linux has (sysfs, /proc, prctl, glibc's getaddrinfo_a, libmd,
# the pty helpers of -lutil, epoll, termios rates above 230400) stays in
# those.  Code only, comments stripped.  `make macos-check` compiles the
# same set against POSIX alone (tests/macos/README.md).
LINUX_ONLY='\b(prctl|getaddrinfo_a|gai_suspend|gai_cancel|openpty|forkpty|login_tty|pipe2|accept4|dup3|memfd_create|epoll_[a-z]+|inotify_[a-z]+|signalfd|timerfd_[a-z]+|eventfd|sendfile|copy_file_range|splice|renameat2|statx|O_PATH|O_TMPFILE|CLOCK_BOOTTIME|SOCK_CLOEXEC|SOCK_NONBLOCK|st_mtim|B460800|B921600|B1000000|B1500000|B2000000|B3000000|MD5Init|SHA256Init|SHA1Init|_GNU_SOURCE)\b|"/(proc|sys)/|libcurl\.so|<(pty|md5|sha1|sha2|utmp|sys/prctl|sys/sysmacros|sys/epoll|sys/inotify|sys/sendfile|linux/[a-z_/]+)\.h>'
linux_only() {
    for f in "$@"; do
        "${CC:-cc}" -fpreprocessed -dD -E -P -x c "$f" 2>/dev/null | grep -qE "$LINUX_ONLY" && echo "$f"
    done
}
linux=$(linux_only $(find src include -name '*.[ch]' ! -path 'src/os/win32/*' ! -name '*_linux.c' | sort) | tr '\n' ' ')
none "Linux-only calls only in src/os/posix/*_linux.c (the macOS build leaves them out)" "$linux"

nodoc=
for d in src/*/; do [ -f "$d/README.md" ] || nodoc="$nodoc $d"; done
none "every src/ folder has a README.md" "$nodoc"

# The checks above must be able to fail: a planted cycle and a planted long
# function are caught.
printf 'src/a/x.c src/a/y.c\nsrc/a/y.c src/a/x.c\n' | tsort >/dev/null 2>&1
check "a planted cycle is caught" test $? -ne 0
{ echo 'int f(void)'; echo '{'; for _ in $(seq 125); do echo '    ;'; done; echo '}'; } >"$TMP/long.c"
n=$(awk '/^\{/ { s = FNR } /^\}/ && s { print FNR - s + 1 }' "$TMP/long.c")
check "a planted 127-line function is measured ($n)" test "$n" -eq 127
mkdir -p "$TMP/plant/src/fs"
printf '#include <stdio.h>\n  #  include <sys/stat.h>\n' >"$TMP/plant/src/fs/x.c"
printf '#include <stdio.h>\n#include "os/os.h"\n' >"$TMP/plant/src/fs/y.c"
check "a planted <sys/stat.h> is caught, C11 headers are not" \
    test "$(cd "$TMP/plant" && posix_includes src)" = "src/fs/x.c"
printf '/* prctl(PR_SET_PDEATHSIG) and "/proc/self/exe" in a comment */\nint x;\n' >"$TMP/plant/c.c"
printf '#include <sys/prctl.h>\nvoid f(void) { prctl(1); }\n' >"$TMP/plant/p.c"
printf 'const char *e = "/proc/self/exe";\n' >"$TMP/plant/e.c"
check "planted prctl() and /proc are caught, comments are not" \
    test "$(linux_only "$TMP/plant/c.c" "$TMP/plant/p.c" "$TMP/plant/e.c" | tr '\n' ' ')" = "$TMP/plant/p.c $TMP/plant/e.c "
finish
