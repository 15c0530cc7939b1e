# src/flash/stub_image.c is committed so that building esp01 needs no cross
# compiler; it must be exactly what `make stub-image` makes from stub/
# today.  Rebuild it in a scratch build directory and compare.
. "$SRCDIR/tests/lib.sh"
if ! command -v xtensa-lx106-elf-gcc >/dev/null; then
    skip "stub image is up to date" "no xtensa-lx106-elf-gcc (tests/install-deps.sh)"
    finish
fi
cd "$SRCDIR" || exit 1
expect_ok "make stub-image builds the stub" \
    make -s BUILD="$TMP/b" STUB_IMAGE_OUT="$TMP/stub_image.c" stub-image
check "committed src/flash/stub_image.c is the stub built from stub/" \
    cmp -s "$TMP/stub_image.c" src/flash/stub_image.c
# Two builds in different places give the same bytes: nothing of the
# build (paths, dates) ends up in the file.
make -s BUILD="$TMP/c" STUB_IMAGE_OUT="$TMP/again.c" stub-image >/dev/null 2>&1
check "the generated file does not depend on where it was built" \
    cmp -s "$TMP/stub_image.c" "$TMP/again.c"
# What the ROM loader will be asked to load: one code segment in IRAM and
# no data segment (docs/stub.md: the stub keeps no constant data, so one
# MEM_BEGIN/MEM_DATA round less), entry in the code.
seg=$(sed -n 's/^ *{0x\([0-9A-F]*\), \([0-9]*\), seg[0-9]},$/\1 \2/p' src/flash/stub_image.c)
iram=$(echo "$seg" | awk '$1 ~ /^4010/ { print $2 }')
check "one segment, code in IRAM" test "$(echo "$seg" | wc -l)" -eq 1 -a -n "$iram"
check "the image stays small (under 12 KiB)" test "${iram:-99999}" -lt 12288
echo "# stub image: $iram bytes of code"
finish
