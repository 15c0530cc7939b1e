# FAT images written by our writer, checked by Debian's mtools and fsck.fat;
# images written by mtools, read back by our reader.
. "$(dirname "$0")/../lib.sh"

FT=$TOOLS/fat_tool
need() { command -v "$1" >/dev/null 2>&1; }
if ! need mdir || ! need mcopy || ! need mtype || ! need mformat || ! need fsck.fat; then
    skip "fat peers" "mtools or dosfstools not installed (tests/install-deps.sh)"
    finish
fi

# Our reader's listing as "size sha256 path" lines for files only.
our_files() { "$FT" ls "$1" | grep '^file ' | cut -d' ' -f2- | sort; }
# The same lines for a host directory.
host_files() {
    (cd "$1" && find . -type f | sed 's|^\./||' | sort | while IFS= read -r f; do
        printf '%s %s %s\n' "$(stat -c %s "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"
    done) | sort
}
fsck_clean() { # NAME IMG: fsck.fat -n must find nothing to fix
    if fsck.fat -n "$2" >"$TMP/fsck" 2>&1; then ok "$1"
    else fail "$1" "fsck.fat -n: $(head -c 400 "$TMP/fsck")"; fi
}

# --- a tree with every kind of name and size -------------------------
src=$TMP/src
mkdir -p "$src/lib/sub" "$src/Deep"
printf 'print("boot")\n' > "$src/boot.py"
printf 'x = 1\n' > "$src/Main.PY"
printf 'mixed\n' > "$src/MixedCase.txt"
printf 'lower\n' > "$src/lower.txt"
printf 'upper\n' > "$src/UPPER.TXT"
: > "$src/empty.py"
printf 'a\n' > "$src/a long name with spaces.json"
printf 'p\n' > "$src/x+y=z[1].py"
printf 'v\n' > "$src/archive.tar.gz"
printf '26\n' > "$src/Name_Of_Exactly_26_Chars.p"   # long name with no terminator
# A directory of long names spanning several 4 KiB clusters.
mkdir -p "$src/many"
for i in $(seq -w 1 200); do printf '%s\n' "$i" > "$src/many/Module with a long name $i.py"; done
for i in 1 2 3 4 5 6 7 8; do printf '%s\n' "$i" > "$src/lib/verylongmodule$i.py"; done
long=$(printf 'n%.0s' $(seq 1 252)).py
printf 'long\n' > "$src/$long"
for n in 1 4095 4096 4097 8192 150000; do head -c "$n" /dev/urandom > "$src/lib/sub/size_$n.bin"; done
d=$src/Deep
for i in $(seq 1 30); do d=$d/Level$i; done
mkdir -p "$d" && printf 'leaf\n' > "$d/leaf.txt"
mkdir -p "$src/empty dir"

expect_ok "writer makes a 500-block image" "$FT" mkfs "$src" 500 "$TMP/ours.img"
check "image is 500 blocks" test "$(stat -c %s "$TMP/ours.img")" -eq $((500 * 4096))
fsck_clean "fsck.fat -n finds our image clean" "$TMP/ours.img"

if mdir -/ -i "$TMP/ours.img" :: >"$TMP/mdir" 2>&1; then ok "mdir lists our image"
else fail "mdir lists our image" "$(head -c 300 "$TMP/mdir")"; fi
check "mdir shows long names" grep -q "a long name with spaces.json" "$TMP/mdir"
check "mdir shows the 255-byte name" grep -q "$long" "$TMP/mdir"
check "mdir shows the deepest directory" grep -q "Level30" "$TMP/mdir"
check "mdir shows the 8.3 alias FatFs makes" grep -qi "VERYLO~5" "$TMP/mdir"

mtype -i "$TMP/ours.img" ::boot.py > "$TMP/boot.out" 2>&1
check "mtype reads a file back" cmp -s "$TMP/boot.out" "$src/boot.py"

copy=$TMP/copy
mkdir -p "$copy"
if mcopy -s -n -i "$TMP/ours.img" '::*' "$copy/" >"$TMP/mc" 2>&1; then ok "mcopy copies everything out"
else fail "mcopy copies everything out" "$(head -c 300 "$TMP/mc")"; fi
if diff -r "$src" "$copy" >"$TMP/diff" 2>&1; then ok "mcopy's copy equals the source tree"
else fail "mcopy's copy equals the source tree" "$(head -c 400 "$TMP/diff")"; fi
check "names keep their case through mtools" test -f "$copy/Main.PY" -a -f "$copy/MixedCase.txt" -a -f "$copy/lower.txt"

host_files "$src" > "$TMP/want"
our_files "$TMP/ours.img" > "$TMP/got"
check "our reader reads our image back" cmp -s "$TMP/want" "$TMP/got"
expect_ok "our check finds our image clean" "$FT" check "$TMP/ours.img"

# --- a full partition, and one byte more -----------------------------
full=$TMP/full
mkdir -p "$full"
# 60 blocks: 1 boot + 1 FAT + 4 root = 6 system sectors, 54 clusters.
head -c $((54 * 4096)) /dev/urandom > "$full/all.bin"
expect_ok "a file filling every cluster fits" "$FT" mkfs "$full" 60 "$TMP/full.img"
check "usage says every cluster is used" grep -qx "4096 54 54" "$TMP/out"
fsck_clean "fsck.fat -n finds the full image clean" "$TMP/full.img"
mtype -i "$TMP/full.img" ::all.bin > "$TMP/all.out" 2>/dev/null
check "mtype reads the full-partition file" cmp -s "$TMP/all.out" "$full/all.bin"
printf 'x' >> "$full/all.bin"
"$FT" mkfs "$full" 60 "$TMP/over.img" >"$TMP/out" 2>"$TMP/err"
check "one byte more is ESP01_E_NOSPACE" test $? -eq 3
check "... and says what did not fit" grep -q "clusters" "$TMP/err"
check "... and writes nothing" test ! -e "$TMP/over.img"

# --- FAT16 geometry, for volumes past 4085 clusters ------------------
mkdir -p "$TMP/small" && printf 'hi\n' > "$TMP/small/hello.txt"
expect_ok "writer makes an 8192-block (FAT16) image" "$FT" mkfs "$TMP/small" 8192 "$TMP/f16.img"
fsck_clean "fsck.fat -n finds the FAT16 image clean" "$TMP/f16.img"
check "mtools sees the file on FAT16" test "$(mtype -i "$TMP/f16.img" ::hello.txt 2>/dev/null)" = hi
check "fsck.fat agrees it is FAT16" sh -c "fsck.fat -n -v '$TMP/f16.img' 2>&1 | grep -q '16 bit entries'"

# --- mtools writes, our reader reads ---------------------------------
mkdir -p "$TMP/emptysrc"
expect_ok "writer makes an empty image" "$FT" mkfs "$TMP/emptysrc" 500 "$TMP/blank.img"
(cd "$src" && mcopy -s -i "$TMP/blank.img" ./* ::/) >"$TMP/mc" 2>&1
check "mcopy writes a tree into our empty image" test $? -eq 0
our_files "$TMP/blank.img" > "$TMP/got"
check "our reader reads what mcopy wrote" cmp -s "$TMP/want" "$TMP/got"
expect_ok "our check finds mcopy's image clean" "$FT" check "$TMP/blank.img"
fsck_clean "fsck.fat agrees mcopy's image is clean" "$TMP/blank.img"

# An mformat floppy: 512-byte sectors, two FATs, FAT12.
mformat -C -i "$TMP/floppy.img" -f 1440 :: >/dev/null 2>&1
mkdir -p "$TMP/fl"
printf 'one\n' > "$TMP/fl/One File.txt"
mkdir -p "$TMP/fl/dir" && head -c 30000 /dev/urandom > "$TMP/fl/dir/data.bin"
(cd "$TMP/fl" && mcopy -s -i "$TMP/floppy.img" ./* ::/) >/dev/null 2>&1
host_files "$TMP/fl" > "$TMP/want2"
our_files "$TMP/floppy.img" > "$TMP/got2"
check "our reader reads an mformat floppy" cmp -s "$TMP/want2" "$TMP/got2"
expect_ok "our check finds the floppy clean" "$FT" check "$TMP/floppy.img"

# Damage an image behind fsck's back: both checkers must notice.
cp "$TMP/ours.img" "$TMP/bad.img"
# The low byte of cluster 2's FAT12 entry: 0xFFF becomes 0xF03, a link past
# the end of the volume.
printf '\x03' | dd of="$TMP/bad.img" bs=1 seek=$((4096 + 3)) conv=notrunc 2>/dev/null
"$FT" check "$TMP/bad.img" >"$TMP/issues" 2>&1
check "our check reports a damaged FAT" test $? -eq 1 -a -s "$TMP/issues"
check "fsck.fat reports it too" sh -c "! fsck.fat -n '$TMP/bad.img' >/dev/null 2>&1"

finish
