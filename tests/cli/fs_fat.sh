# esp01 fs and esp01 build on FAT partitions: MicroPython's FAT fixture,
# images we make (checked by fsck.fat and mtools), a flash image with a FAT
# partition, and damaged images.
. "$(dirname "$0")/../lib.sh"

FX=$SHARED/fixtures/fs
FAT=$FX/fat-2m-project.img

# --- MicroPython's own FAT images (every one in manifest.json; fs.sh
# compares them with the manifest): Debian's dosfstools and mtools as peers
# agree on what they hold and that they are clean ---
if command -v node >/dev/null && command -v fsck.fat >/dev/null && command -v mcopy >/dev/null; then
    node -e 'for (const f of require(process.argv[1])) if (f.fs === "fat")
        console.log(`${f.image} ${f.statvfs_free_blocks * f.block_size}`);' \
        "$FX/manifest.json" >"$TMP/fat-images"
    check "manifest.json lists FAT images" test -s "$TMP/fat-images"
    while read -r img free; do
        cp "$FX/$img" "$TMP/peer.img" && chmod u+w "$TMP/peer.img"
        check "$img: fsck.fat -n finds it clean" sh -c "fsck.fat -n '$TMP/peer.img' >'$TMP/fsck' 2>&1"
        rm -rf "$TMP/mc" "$TMP/ours" && mkdir -p "$TMP/mc"
        mcopy -s -n -i "$TMP/peer.img" '::*' "$TMP/mc/" >/dev/null 2>&1
        "$ESP01" fs extract "$FX/$img" "$TMP/ours" >/dev/null 2>&1
        check "$img: mtools and our extract give the same tree" diff -r "$TMP/mc" "$TMP/ours"
        mfree=$(mdir -i "$TMP/peer.img" :: 2>/dev/null | sed -n 's/ bytes free$//p' | tr -d ' ')
        check "$img: mtools counts os.statvfs's free space ($free bytes)" test "$mfree" = "$free"
    done <"$TMP/fat-images"
else
    skip "FAT fixtures against fsck.fat and mtools" "node, dosfstools or mtools is not installed"
fi
expect_ok "fs ls on FAT" "$ESP01" fs ls "$FAT" /lib
check "ls lists lib/b.bin with its size" grep -Eq "^ +70000 .* b.bin$" "$TMP/out"
expect_ok "fs check on FAT" "$ESP01" fs check "$FAT"
check "check says fat clean" grep -q "fat clean (24 of 244 clusters used)" "$TMP/out"
expect_ok "fs df on FAT" "$ESP01" fs df "$FAT"
check "df names the format" grep -q "fat at offset 0x0, 244 data clusters of 4096 bytes" "$TMP/out"
"$ESP01" fs cat "$FAT" main.py >"$TMP/main.py"
check "cat from FAT" test "$(sha256sum <"$TMP/main.py" | cut -d' ' -f1)" = 2eb2268b750a45e7c4335957cba6a40ca3dcb2dd4f0c22ab2580ee25f2a365cf

# --- mkfs --fs fat ---
SRC=$TMP/proj
mkdir -p "$SRC/lib/Drivers"
printf 'import main\n' >"$SRC/boot.py"
head -c 9000 /dev/urandom >"$SRC/main.py"
printf 'x\n' >"$SRC/lib/Drivers/Sensor Reading.py"
: >"$SRC/lib/empty.py"
expect_ok "mkfs --fs fat" "$ESP01" fs mkfs "$SRC" -o "$TMP/p.img" --fs fat --blocks 250 --mtime 1700000000
check "mkfs reports fat and usage" grep -q "fat, 250 blocks of 4096 bytes; 4 files" "$TMP/out"
if command -v fsck.fat >/dev/null && command -v mcopy >/dev/null; then
    check "fsck.fat -n: mkfs output is clean" sh -c "fsck.fat -n '$TMP/p.img' >/dev/null"
    rm -rf "$TMP/mc" && mkdir -p "$TMP/mc"
    mcopy -s -n -i "$TMP/p.img" '::*' "$TMP/mc/" >/dev/null 2>&1
    check "mtools copies out what mkfs put in" diff -r "$SRC" "$TMP/mc"
    check "mtools sees the --mtime date" sh -c "mdir -i '$TMP/p.img' ::boot.py | grep -q '2023-11-14'"
else
    skip "fsck.fat/mtools on mkfs output" "dosfstools or mtools not installed"
fi
expect_ok "check our FAT image" "$ESP01" fs check "$TMP/p.img"
rm -rf "$TMP/back"
expect_ok "extract our FAT image" "$ESP01" fs extract "$TMP/p.img" "$TMP/back"
check "extracted tree equals the source" diff -r "$SRC" "$TMP/back"
expect_ok "mkfs is deterministic with --mtime" "$ESP01" fs mkfs "$SRC" -o "$TMP/p2.img" --fs fat --blocks 250 --mtime 1700000000
check "same bytes twice" cmp -s "$TMP/p.img" "$TMP/p2.img"
head -c $((300 * 4096)) /dev/zero >"$SRC/huge.bin"
expect_fail "mkfs --fs fat too small" 1 "clusters" "$ESP01" fs mkfs "$SRC" -o "$TMP/small.img" --fs fat --blocks 250
check "no image left behind" test ! -e "$TMP/small.img"
rm -f "$SRC/huge.bin"
mkdir -p "$TMP/case" && : >"$TMP/case/Main.py" && : >"$TMP/case/main.py"
expect_fail "names differing only in case refused" 1 "same name on FAT" "$ESP01" fs mkfs "$TMP/case" -o "$TMP/c.img" --fs fat --blocks 60

# --- damaged FAT images ---
cp "$TMP/p.img" "$TMP/bad.img"
# FAT12 entry 2 (boot.py, one cluster) made to point at cluster 2: a loop.
printf '\x02\xf0' | dd of="$TMP/bad.img" bs=1 seek=$((4096 + 3)) conv=notrunc 2>/dev/null
expect_fail "check reports a loop" 1 "problem found" "$ESP01" fs check "$TMP/bad.img"
check "the problem is named" grep -q "loops back to cluster 2" "$TMP/out"
expect_fail "cat refuses a looping file" 1 "loops back" "$ESP01" fs cat "$TMP/bad.img" boot.py
head -c 100000 "$TMP/p.img" >"$TMP/trunc.img"
expect_fail "truncated FAT image" 1 "truncated" "$ESP01" fs ls "$TMP/trunc.img"

# --- a flash image with a FAT partition (older 2 MiB+ firmware) ---
"$TOOLS/mkfw" --variant 2M --vfs lfs2,fat "$TMP/fw.bin" >/dev/null 2>&1
expect_ok "build --fs fat for a 2 MiB chip" "$ESP01" build "$SRC" --firmware "$TMP/fw.bin" --flash-size 2M --fs fat -o "$TMP/flash.bin" --mtime 1700000000
expect_ok "fs finds the FAT partition in the flash image" "$ESP01" fs df "$TMP/flash.bin"
check "at 0x100000, 245 clusters in 251 blocks" grep -q "fat at offset 0x100000, 245 data clusters" "$TMP/out"
expect_ok "fs check on the flash image" "$ESP01" fs check "$TMP/flash.bin"
"$ESP01" fs cat "$TMP/flash.bin" main.py >"$TMP/m.py" 2>/dev/null
check "cat main.py from the flash image" cmp -s "$TMP/m.py" "$SRC/main.py"
if command -v fsck.fat >/dev/null; then
    dd if="$TMP/flash.bin" of="$TMP/part.img" bs=4096 skip=256 2>/dev/null
    check "fsck.fat -n: the partition in the flash image is clean" sh -c "fsck.fat -n '$TMP/part.img' >/dev/null"
fi

finish
