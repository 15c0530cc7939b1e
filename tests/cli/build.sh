# esp01 build: firmware + project folder -> one image, checked byte by byte
# against the firmware and read back through the partition reader.
. "$SRCDIR/tests/lib.sh"
MKFW=$TOOLS/mkfw
cd "$TMP" || exit 1

"$MKFW" --variant 1M fw1m.bin
"$MKFW" --variant 2M fw2m.bin
"$MKFW" --variant 512K fw512.bin
"$MKFW" --variant 1M --corrupt md5 fw-badmd5.bin
"$MKFW" --variant 1M --truncate 40000 fw-trunc.bin
head -c 70000 /dev/urandom > fw-random.bin
: > fw-empty.bin

mkdir -p proj/lib/sub
printf 'print("boot")\n' > proj/boot.py
head -c 5000 /dev/urandom | base64 > proj/main.py
printf 'x = 1\n' > proj/lib/util.py
head -c 128 /dev/zero > proj/lib/sub/inline128.bin
head -c 129 /dev/zero > proj/lib/sub/ctz129.bin
: > proj/lib/empty.txt
printf 'secret' > proj/.env
mkdir -p proj/.git && printf 'x' > proj/.git/HEAD
mkdir -p proj/__pycache__ && printf 'x' > proj/__pycache__/a.pyc
printf 'notes.txt\n# comment\n__pycache__/\nlib/sub/*.tmp\n' > proj/.esp01ignore
printf 'skip' > proj/notes.txt
printf 'skip' > proj/lib/sub/x.tmp

sha() { sha256sum "$1" | cut -c1-64; }
byte() { od -An -tx1 -j "$2" -N1 "$1" | tr -d ' \n'; }

# --- the main job ----------------------------------------------------------
expect_ok "build 1M image" "$ESP01" build proj --firmware fw1m.bin -o out.bin
check "image ends where the SDK area begins (0x99000 + 98 blocks)" \
    test "$(stat -c %s out.bin)" -eq $((0x99000 + 98 * 4096))
check "header byte 2 is DOUT" test "$(byte out.bin 2)" = 03
check "header byte 3 is 1M, 40 MHz" test "$(byte out.bin 3)" = 20
fwlen=$(stat -c %s fw1m.bin)
check "firmware bytes kept apart from the header's bytes 2-3" \
    cmp -s <(head -c 2 fw1m.bin; tail -c +5 fw1m.bin) \
           <(head -c 2 out.bin; head -c "$fwlen" out.bin | tail -c +5)
check "0xFF between firmware and filesystem" \
    test "$(head -c $((0x99000)) out.bin | tail -c +$((fwlen + 1)) | tr -d '\377' | wc -c)" -eq 0
check "report names the partition" grep -q 'littlefs at 0x99000, 98 blocks' "$TMP/out"
expect_ok "info accepts the image's firmware" "$ESP01" info out.bin
check "info sees the patched header and a valid MD5" \
    grep -Eq 'flash mode dout, size 1M' "$TMP/out"

expect_ok "extract the partition back" "$ESP01" fs extract out.bin back
for f in boot.py main.py lib/util.py lib/sub/inline128.bin lib/sub/ctz129.bin lib/empty.txt; do
    check "round trip $f" test "$(sha "proj/$f")" = "$(sha "back/$f")"
done
for f in .env .git notes.txt __pycache__ lib/sub/x.tmp .esp01ignore; do
    check "skipped $f" test ! -e "back/$f"
done
expect_ok "partition checks clean" "$ESP01" fs check out.bin

# --- reproducible ----------------------------------------------------------
SOURCE_DATE_EPOCH=1700000000 "$ESP01" build proj --firmware fw1m.bin -o r1.bin -q
touch proj/boot.py
SOURCE_DATE_EPOCH=1700000000 "$ESP01" build proj --firmware fw1m.bin -o r2.bin -q
check "SOURCE_DATE_EPOCH gives identical images" cmp -s r1.bin r2.bin
"$ESP01" build proj --firmware fw1m.bin -o r3.bin -q --mtime 1700000000
check "--mtime gives the same image as SOURCE_DATE_EPOCH" cmp -s r1.bin r3.bin

# --- other targets ---------------------------------------------------------
expect_ok "build 2M image from generic firmware" \
    "$ESP01" build proj --firmware fw2m.bin --flash-size 2M -o out2.bin
blocks2=$(( (2097152 - 20480) / 4096 - 256 ))
check "2M image: FS at 0x100000 with (size-20K)/4K-256 blocks" \
    test "$(stat -c %s out2.bin)" -eq $((0x100000 + blocks2 * 4096))
check "2M header byte 3" test "$(byte out2.bin 3)" = 30
expect_ok "qio / 80 MHz header" \
    "$ESP01" build proj --firmware fw1m.bin --flash-mode qio --flash-freq 80m -o q.bin -q
check "qio header" test "$(byte q.bin 2)$(byte q.bin 3)" = 002f

"$ESP01" build proj --firmware fw1m.bin --mtime 1 -o full.bin -q
expect_ok "--fs-only" "$ESP01" build proj --firmware fw1m.bin --mtime 1 --fs-only -o part.bin
check "--fs-only writes just the partition" test "$(stat -c %s part.bin)" -eq $((98 * 4096))
check "--fs-only says where it goes" grep -q 'at 0x99000' "$TMP/out"
check "--fs-only partition equals the image's" \
    cmp -s part.bin <(tail -c +$((0x99000 + 1)) full.bin)

expect_ok "no firmware: partition for the 1M variant" "$ESP01" build proj -o nofw.bin
check "no firmware: 98 blocks" test "$(stat -c %s nofw.bin)" -eq $((98 * 4096))
check "no firmware: says which firmware it needs" grep -q 'needs ESP8266_GENERIC-FLASH_1M firmware at 0x0, flashed for 1 MiB' "$TMP/out"

expect_ok "--dry-run" "$ESP01" build proj --firmware fw1m.bin -o dry.bin --dry-run
check "--dry-run writes nothing" test ! -e dry.bin

(cd proj && "$ESP01" build . --firmware ../fw1m.bin -q) && \
    check "default output name for '.'" test -f proj/project.bin
rm -f proj/project.bin

# --- warnings --------------------------------------------------------------
mkdir big && head -c 9000 /dev/zero | tr '\0' '#' > big/main.py
expect_ok "big .py builds" "$ESP01" build big --firmware fw1m.bin -o big.bin
check "big .py is warned about" grep -q 'main.py is 9000 bytes: too large to compile' "$TMP/err"

# --- bad input: one line, non-zero, no output left -------------------------
expect_fail "512K firmware has no filesystem" 1 'no filesystem|512' \
    "$ESP01" build proj --firmware fw512.bin --flash-size 512K -o bad.bin
expect_fail "1M firmware on a 512K chip" 1 'needs at least 1 MiB|cannot run' \
    "$ESP01" build proj --firmware fw1m.bin --flash-size 512K -o bad.bin
expect_fail "bad MD5" 1 'fw-badmd5.bin: .*MD5' \
    "$ESP01" build proj --firmware fw-badmd5.bin -o bad.bin
expect_fail "truncated firmware" 1 'fw-trunc.bin: ' \
    "$ESP01" build proj --firmware fw-trunc.bin -o bad.bin
expect_fail "random bytes" 1 'fw-random.bin: ' \
    "$ESP01" build proj --firmware fw-random.bin -o bad.bin
expect_fail "empty firmware" 1 'fw-empty.bin: ' \
    "$ESP01" build proj --firmware fw-empty.bin -o bad.bin
expect_fail "missing firmware" 1 "cannot open 'nope.bin': No such file or directory" \
    "$ESP01" build proj --firmware nope.bin -o bad.bin
expect_fail "flash dump given as firmware" 1 'flash dump or a built image' \
    "$ESP01" build proj --firmware out.bin -o bad.bin
expect_fail "missing project" 1 "cannot open 'nope': No such file" \
    "$ESP01" build nope --firmware fw1m.bin -o bad.bin
expect_fail "bad flash size" 2 "--flash-size '3M'" \
    "$ESP01" build proj --flash-size 3M -o bad.bin
expect_fail "bad flash mode" 2 "--flash-mode 'fast'" \
    "$ESP01" build proj --flash-mode fast -o bad.bin
expect_fail "no project" 2 'no PROJECT_DIR' "$ESP01" build

mkdir toobig && head -c 500000 /dev/urandom > toobig/data.bin
expect_fail "project that does not fit" 1 'fit|space|blocks' \
    "$ESP01" build toobig --firmware fw1m.bin -o bad.bin

# Under Wine (tests/win32/tier.sh sets ESP01_WINE) a Unix link to a file
# shows as a plain file - Wine 8 gives only links to folders a reparse
# point, which is what Windows has for every link - so there the link in the
# project is one to a folder.
if [ -n "${ESP01_WINE:-}" ]; then
    mkdir linky && printf 'x' > linky/main.py && ln -s /etc linky/passwd
else
    mkdir linky && printf 'x' > linky/main.py && ln -s /etc/passwd linky/passwd
fi
expect_fail "symlink refused" 1 "symbolic link" \
    "$ESP01" build linky --firmware fw1m.bin -o bad.bin

# A host name cannot exceed 255 bytes either; the longest one must work.
mkdir longname && long="$(printf 'n%.0s' $(seq 252)).py" && printf 'x' > "longname/$long"
expect_ok "255-byte name" "$ESP01" build longname --firmware fw1m.bin -o long.bin -q
expect_ok "255-byte name reads back" "$ESP01" fs cat long.bin "$long"
check "255-byte name content" test "$(cat "$TMP/out")" = x

mkdir unreadable && printf 'x' > unreadable/main.py && chmod 000 unreadable/main.py
if [ "$(id -u)" -ne 0 ]; then
    expect_fail "unreadable file" 1 "cannot open .*main.py" \
        "$ESP01" build unreadable --firmware fw1m.bin -o bad.bin
fi
check "no output file left behind by any failure" test ! -e bad.bin
check "no temporary files left behind" test -z "$(ls | grep -F '.tmp')"
finish
