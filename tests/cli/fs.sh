# esp01 fs: every subcommand against MicroPython's own images, images we
# make, crafted hostile images, and extraction into hostile destinations.
. "$(dirname "$0")/../lib.sh"

FX=$SHARED/fixtures/fs
PROJ=$FX/lfs2-esp01-project.img
MANY=$FX/lfs2-2m-many.img

# --- help and usage errors ---
expect_ok "fs --help" "$ESP01" fs --help
check "fs --help lists extract and mkfs" grep -q "extract IMAGE DIR" "$TMP/out"
expect_ok "help fs" "$ESP01" help fs
expect_fail "fs without a command" 2 "which fs command" "$ESP01" fs
expect_fail "fs unknown command" 2 "not an fs command" "$ESP01" fs frobnicate "$PROJ"
expect_fail "fs cat without PATH" 2 "cat takes IMAGE PATH" "$ESP01" fs cat "$PROJ"
expect_fail "fs bad --blocks" 2 "bad --blocks" "$ESP01" fs ls "$PROJ" --blocks lots
expect_fail "fs unknown option" 2 "unknown option '--frob'" "$ESP01" fs ls "$PROJ" --frob
expect_fail "fs --force outside extract" 2 "only applies to extract" "$ESP01" fs ls "$PROJ" --force

# --- every image in manifest.json (real MicroPython's, littlefs and FAT,
# fresh and long used): ls, tree, extract, check and df, against the
# manifest exactly ---
if command -v node >/dev/null; then
    # one line per image: name, fs, statvfs free blocks; and per image
    # $TMP/m/NAME.{top,tree,files}: what ls, tree and extract must show
    mkdir -p "$TMP/m"
    node -e '
        const fs = require("fs");
        const m = require(process.argv[1]), out = process.argv[2];
        const byte = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
        const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
        for (const f of m) {
            const es = f.entries.slice().sort((a, b) => byte(a.path, b.path));
            const name = e => e.type === "dir" ? e.path + "/" : e.path;
            fs.writeFileSync(`${out}/${f.image}.top`, es.filter(e => !e.path.includes("/"))
                .map(name).join("\n") + "\n");
            const files = es.filter(e => e.type === "file");
            const bytes = files.reduce((s, e) => s + e.size, 0);
            fs.writeFileSync(`${out}/${f.image}.tree`, es.map(name).join("\n") + "\n" +
                `${plural(files.length, "file", "files")}, ` +
                `${plural(es.length - files.length, "directory", "directories")}, ${bytes} bytes\n`);
            fs.writeFileSync(`${out}/${f.image}.files`, es.map(e => e.type === "dir"
                ? `${e.path}/` : `${e.path} ${e.size} ${e.sha256}`).sort(byte).join("\n") + "\n");
            console.log(`${f.image} ${f.fs} ${f.statvfs_free_blocks}`);
        }' "$FX/manifest.json" "$TMP/m" >"$TMP/images"
    check "manifest.json lists images" test -s "$TMP/images"
    while read -r img kind free; do
        expect_ok "$img: fs ls" "$ESP01" fs ls "$FX/$img"
        cut -c34- "$TMP/out" >"$TMP/got"
        check "$img: ls shows the root as listed" cmp -s "$TMP/m/$img.top" "$TMP/got"
        expect_ok "$img: fs tree" "$ESP01" fs tree "$FX/$img"
        sed '$!s/^.\{33\}//' "$TMP/out" >"$TMP/got"
        check "$img: tree shows every entry, and the totals" cmp -s "$TMP/m/$img.tree" "$TMP/got"
        rm -rf "$TMP/x"
        expect_ok "$img: fs extract" "$ESP01" fs extract "$FX/$img" "$TMP/x"
        (cd "$TMP/x" && find . -mindepth 1 -type d -printf '%P/\n'
         find . -type f -printf '%P\t%s\n' | LC_ALL=C sort >"$TMP/sizes"
         find . -type f -printf '%P\0' | xargs -0 -r sha256sum -- |
             sed 's/^\([0-9a-f]*\)  \(.*\)$/\2\t\1/' | LC_ALL=C sort >"$TMP/sums"
         LC_ALL=C join -t "$(printf '\t')" "$TMP/sizes" "$TMP/sums" | tr '\t' ' ') |
            LC_ALL=C sort >"$TMP/got"
        LC_ALL=C sort "$TMP/m/$img.files" >"$TMP/want"
        check "$img: extract gives every file, size and sha256" cmp -s "$TMP/want" "$TMP/got"
        expect_ok "$img: fs check" "$ESP01" fs check "$FX/$img"
        check "$img: check says clean" grep -Eq "^$FX/$img: (littlefs|fat) clean" "$TMP/out"
        expect_ok "$img: fs df" "$ESP01" fs df "$FX/$img"
        if [ "$kind" = lfs2 ]; then
            check "$img: df's statvfs free is os.statvfs's $free" grep -Eq "^  statvfs +[0-9]+ used, $free free" "$TMP/out"
        else
            check "$img: df's free clusters are os.statvfs's $free" grep -Eq "^  free +$free blocks" "$TMP/out"
        fi
    done <"$TMP/images"
else
    skip "fixtures match manifest.json" "node is not installed"
fi

# --- ls / tree / cat / df / check on the fixtures ---
expect_ok "ls root" "$ESP01" fs ls "$PROJ"
check "ls shows boot.py and lib/" grep -q "boot.py" "$TMP/out"
check "ls marks directories" grep -q " lib/$" "$TMP/out"
check "ls root is one level" test "$(grep -c wifitools "$TMP/out")" -eq 0
expect_ok "ls a directory" "$ESP01" fs ls "$PROJ" /lib
check "ls lib shows wifitools.py 3000" grep -Eq "^ +3000 .* wifitools.py$" "$TMP/out"
expect_ok "tree" "$ESP01" fs tree "$PROJ"
check "tree lists nested file" grep -q "lib/empty.py" "$TMP/out"
check "tree summary" grep -q "^5 files, 1 directory, 8748 bytes$" "$TMP/out"
check "mtime shown as MicroPython stored it" grep -q "2026-11-23" "$TMP/out"
"$ESP01" fs cat "$PROJ" lib/wifitools.py >"$TMP/w.py"
check "cat bytes match manifest sha256" test "$(sha256sum <"$TMP/w.py" | cut -d' ' -f1)" = 5d6845ec63eaad1ddc2248b8435f4fe974c6bc9bfd364f95bf415b45c6b6c7f0
"$ESP01" fs cat "$MANY" data/deep/er/big.bin >"$TMP/big.bin"
check "cat 150000-byte CTZ file" test "$(sha256sum <"$TMP/big.bin" | cut -d' ' -f1)" = f6fb09ee6c02c9176c0f538b2a73438ee718ef4f9c241f084f12efeb742b9b57
expect_fail "cat missing file" 1 "^esp01: no 'nope.py' in the image$" "$ESP01" fs cat "$PROJ" nope.py
expect_fail "cat a directory" 1 "'lib' is a directory" "$ESP01" fs cat "$PROJ" lib
expect_fail "ls missing path" 1 "no 'x/y' in the image" "$ESP01" fs ls "$PROJ" x/y
for img in lfs2-esp01-fresh.img lfs2-esp01-project.img lfs2-2m-many.img; do
    expect_ok "check $img clean" "$ESP01" fs check "$FX/$img"
    check "check $img says clean" grep -q "littlefs clean" "$TMP/out"
done
expect_ok "df" "$ESP01" fs df "$PROJ"
check "df total is the superblock's 98 blocks" grep -q "98 blocks of 4096 bytes" "$TMP/out"
used=$(sed -n 's/^ *used *\([0-9]*\) blocks.*/\1/p' "$TMP/out")
free=$(sed -n 's/^ *free *\([0-9]*\) blocks.*/\1/p' "$TMP/out")
check "df used + free = 98" test "$((used + free))" -eq 98
# MicroPython's os.statvfs() said 98 - 89 used for this image.
check "df shows what MicroPython's statvfs said" grep -Eq "^  statvfs +9 used, 89 free" "$TMP/out"

# --- bad input ---
expect_fail "missing image" 1 "cannot open '$TMP/none.img'" "$ESP01" fs ls "$TMP/none.img"
head -c 409600 /dev/zero | tr '\0' '\377' >"$TMP/blank.img"
expect_fail "blank image" 1 "holds no littlefs or FAT" "$ESP01" fs ls "$TMP/blank.img"
head -c 81920 "$PROJ" >"$TMP/short.img"
expect_fail "truncated image" 1 "says 98 blocks.*81920 bytes" "$ESP01" fs tree "$TMP/short.img"
for k in cycle ctzpast dotdot slash; do "$TOOLS/lfs_craft" $k "$TMP/$k.img"; done
expect_fail "check: cycle" 1 "problems? found" "$ESP01" fs check "$TMP/cycle.img"
check "check: cycle reported" grep -q "^problem: metadata list loops back to pair {1, 0}" "$TMP/out"
expect_fail "check: CTZ past end" 1 "problem found" "$ESP01" fs check "$TMP/ctzpast.img"
check "check: CTZ reported" grep -q "CTZ pointer to block 999 is past the end" "$TMP/out"
expect_fail "cat through a bad CTZ pointer" 1 "sub/big.bin.*block 999 is past the end" "$ESP01" fs cat "$TMP/ctzpast.img" sub/big.bin
expect_fail "check: '..' name" 1 "problem found" "$ESP01" fs check "$TMP/dotdot.img"
check "check: '..' reported" grep -q "bad name '..'" "$TMP/out"

"$TOOLS/lfs_craft" move "$TMP/move.img"
expect_ok "pending move: tree" "$ESP01" fs tree "$TMP/move.img"
check "pending move: moved entry gone from the source" test "$(grep -c ' xy$' "$TMP/out")" -eq 0
check "pending move: destination listed" grep -q " sub/xy$" "$TMP/out"
check "pending move: the rest is there" grep -q "^3 files, 1 directory" "$TMP/out"
expect_ok "pending move: check clean" "$ESP01" fs check "$TMP/move.img"

# --- on-disk forms littlefs writes and our writer never does ---
# lfs_craft builds each tag by tag (its source says what each holds); the
# listings and statvfs counts below are what real littlefs 2.11 mounted
# them as (lfs_dir_read, lfs_fs_traverse), except where a comment says.
crafted() { # KIND LISTING STATVFS: read, check and df of a crafted image
    local kind=$1 want=$2 statvfs=$3
    "$TOOLS/lfs_craft" "$kind" "$TMP/$kind.img"
    "$TOOLS/lfs_dump" "$TMP/$kind.img" 2>"$TMP/err" | cut -f1-3 >"$TMP/got.tsv"
    printf '%b' "$want" >"$TMP/want.tsv"
    check "$kind: lists as littlefs does" cmp -s "$TMP/want.tsv" "$TMP/got.tsv"
    expect_ok "$kind: check calls it clean" "$ESP01" fs check "$TMP/$kind.img"
    cp "$TMP/out" "$TMP/check.out"
    "$ESP01" fs df "$TMP/$kind.img" >"$TMP/df" 2>&1
    check "$kind: statvfs counts $statvfs used" grep -Eq "^  statvfs +$statvfs used" "$TMP/df"
}
noted() { # NAME REGEX: the last crafted check printed a matching note
    check "$1" grep -Eq "^note: $2" "$TMP/check.out"
}
crafted nulltail 'a.txt\tfile\t5\n' 2
check "nulltail: nothing to note" test "$(grep -c '^note' "$TMP/check.out")" -eq 0
crafted expanded 'lib\tdir\t-\nlib/x.py\tfile\t6\nmain.py\tfile\t18\n' 8
crafted orphan 'keep.txt\tfile\t2\n' 4
noted "orphan: noted, not a problem" "pair \{2, 3\} is on the metadata list but in no directory"
noted "orphan: the global state's count noted" "the global state says 1 orphaned pair"
crafted halforphan 'd\tdir\t-\nd/new.txt\tfile\t4\n' 6
noted "halforphan: noted" "pair \{2, 3\} on the metadata list is the old copy of pair \{2, 4\}"
crafted torn 'a.txt\tfile\t2\n' 2
noted "torn: the cut commit noted" "block 1: the commit at offset [0-9]+ was cut short"
"$ESP01" fs cat "$TMP/torn.img" a.txt >"$TMP/a.txt"
check "torn: the last whole commit's data" test "$(cat "$TMP/a.txt")" = v2
crafted tornfcrc 'a.txt\tfile\t2\n' 2
noted "tornfcrc: seen through the FCRC" "block 1: the commit at offset [0-9]+ was cut short"
crafted fellback 'old.txt\tfile\t13\n' 2
noted "fellback: noted" "metadata pair \{0, 1\}: block 1, the newer one, has no valid commit"
crafted validbit 'a.txt\tfile\t2\nsub\tdir\t-\nsub/new.txt\tfile\t4\n' 6
crafted v20 'f.txt\tfile\t4\n' 2
crafted entries 'grown.txt\tfile\t5000\nrenamed.txt\tfile\t7\nsmall.txt\tfile\t6\nzero.bin\tfile\t0\n' 4
expect_ok "entries: tree" "$ESP01" fs tree "$TMP/entries.img"
check "entries: mtime kept through the rename" grep -q "2023-11-14 22:13:20  renamed.txt" "$TMP/out"
check "entries: a removed mtime is gone" grep -Eq "^ +0  -  +zero.bin$" "$TMP/out"
"$ESP01" fs cat "$TMP/entries.img" grown.txt >"$TMP/grown"
check "entries: the file grown into a CTZ list" test "$(head -c 26 "$TMP/grown")" = abcdefghijklmnopqrstuvwxyz
# littlefs 2.9.1 and later also hide c.txt, the entry after the moved one,
# until their next write finishes the move; we list it, as they do then.
# statvfs misses it as theirs does.
crafted movemid 'c.txt\tfile\t6\nsub\tdir\t-\nsub/a.txt\tfile\t7\n' 6
noted "movemid: the pending rename noted" "id 1 of pair \{1, 0\} is the old name of a renamed entry"

# ... and forms that are damage, or that no littlefs writes
"$TOOLS/lfs_craft" damaged "$TMP/damaged.img"
expect_fail "damaged: check" 1 "1 problem found" "$ESP01" fs check "$TMP/damaged.img"
check "damaged: the lost commits reported" grep -q "^problem: block 1: commit at offset [0-9]* has a bad CRC, and valid commits follow it" "$TMP/out"
"$ESP01" fs cat "$TMP/damaged.img" a.txt >"$TMP/a.txt"
check "damaged: read up to the bad commit, as littlefs does" test "$(cat "$TMP/a.txt")" = v1
"$TOOLS/lfs_craft" orphanleak "$TMP/leak.img"
expect_ok "orphanleak: reads" "$ESP01" fs ls "$TMP/leak.img"
expect_fail "orphanleak: an orphan the global state does not count" 1 "1 problem found" "$ESP01" fs check "$TMP/leak.img"
check "orphanleak: reported as an orphan" grep -q "^problem: metadata pair {2, 3} is in the list but no directory points to it (orphan)" "$TMP/out"
"$TOOLS/lfs_craft" oddtag "$TMP/oddtag.img"
expect_ok "oddtag: reads" "$ESP01" fs cat "$TMP/oddtag.img" a.txt
expect_fail "oddtag: check" 1 "1 problem found" "$ESP01" fs check "$TMP/oddtag.img"
check "oddtag: reported" grep -q "never writes (first: type 0x100)" "$TMP/out"
"$TOOLS/lfs_craft" nullhard "$TMP/nullhard.img"
expect_fail "nullhard: refused" 1 "directory '/' continues at a null pair" "$ESP01" fs tree "$TMP/nullhard.img"
expect_fail "nullhard: check" 1 "problem found" "$ESP01" fs check "$TMP/nullhard.img"
"$TOOLS/lfs_craft" oddtype "$TMP/oddtype.img"
expect_fail "oddtype: refused" 1 "entry 'link' of type 0x003" "$ESP01" fs ls "$TMP/oddtype.img"
"$TOOLS/lfs_craft" superstray "$TMP/superstray.img"
expect_fail "superstray: refused" 1 "pair \{2, 3\} holds a superblock entry" "$ESP01" fs extract "$TMP/superstray.img" "$TMP/ss"
check "superstray: nothing extracted" test ! -e "$TMP/ss"

# --- whole-flash dumps and build outputs ---
{ printf '\351'; head -c $((0x99000 - 1)) /dev/zero | tr '\0' '\377'; cat "$PROJ"; head -c 20480 /dev/zero | tr '\0' '\377'; } >"$TMP/flash.bin"
expect_ok "ls finds the partition in a 1 MiB dump" "$ESP01" fs ls "$TMP/flash.bin"
check "dump listing has main.py" grep -q "main.py" "$TMP/out"
expect_ok "df on a dump" "$ESP01" fs df "$TMP/flash.bin"
check "df reports the offset" grep -q "offset 0x99000" "$TMP/out"
expect_ok "--offset/--blocks" "$ESP01" fs tree "$TMP/flash.bin" --offset 0x99000 --blocks 98
check "--offset tree" grep -q "^5 files" "$TMP/out"
expect_fail "--offset at no filesystem" 1 "no littlefs or FAT filesystem at offset 0x1000" "$ESP01" fs ls "$TMP/flash.bin" --offset 0x1000
expect_fail "--blocks past the end" 1 "less than 300 blocks" "$ESP01" fs ls "$TMP/flash.bin" --offset 0x99000 --blocks 300
# esp01 build outputs: the firmware's own layout says where the partition is.
"$TOOLS/mkfw" --variant 1M "$TMP/fw1m.bin"
"$TOOLS/mkfw" --variant 2M "$TMP/fw2m.bin"
mkdir -p "$TMP/bproj/lib" && printf 'print(1)\n' >"$TMP/bproj/main.py" && head -c 6000 /dev/urandom >"$TMP/bproj/lib/blob.bin"
"$ESP01" build "$TMP/bproj" --firmware "$TMP/fw1m.bin" -o "$TMP/b1m.bin" >"$TMP/b1m.out" 2>&1
"$ESP01" build "$TMP/bproj" --firmware "$TMP/fw2m.bin" --flash-size 2M -o "$TMP/b2m.bin" >/dev/null 2>&1
expect_ok "df on a 1M build output" "$ESP01" fs df "$TMP/b1m.bin"
check "1M build: partition at 0x99000, 98 blocks" grep -q "offset 0x99000, 98 blocks" "$TMP/out"
# build's budget line counts as df does: blocks really used, then statvfs
used=$(sed -n 's/^ *used *\([0-9]*\) blocks.*/\1/p' "$TMP/out")
sv=$(sed -n 's/^ *statvfs *\([0-9]*\) used, \(-*[0-9]*\) free.*/\1 used, \2 free/p' "$TMP/out")
check "build's budget is df's count ($used used; statvfs $sv)" \
    grep -q "filesystem $used of 98 blocks used, $(( (98 - used) * 4 )) KiB free (os.statvfs: $sv)" "$TMP/b1m.out"
check "a subdirectory makes statvfs say more than is used" test "${sv%% *}" -gt "$used"
expect_ok "df on a 2M build output" "$ESP01" fs df "$TMP/b2m.bin"
check "2M build: partition at 0x100000, 251 blocks" grep -q "offset 0x100000, 251 blocks" "$TMP/out"
"$ESP01" fs cat "$TMP/b2m.bin" lib/blob.bin >"$TMP/blob.out"
check "cat from a build output" cmp -s "$TMP/blob.out" "$TMP/bproj/lib/blob.bin"
{ printf '\351'; head -c $((0x100000 - 1)) /dev/zero | tr '\0' '\377'; } >"$TMP/nofs.bin"
expect_fail "dump without a filesystem" 1 "no filesystem partition was found" "$ESP01" fs ls "$TMP/nofs.bin"

# --- mkfs ---
SRC=$TMP/src
mkdir -p "$SRC/lib/deep" "$SRC/.git"
printf 'print("hello")\n' >"$SRC/main.py"
head -c 128 /dev/urandom >"$SRC/lib/inline128.bin"
head -c 129 /dev/urandom >"$SRC/lib/ctz129.bin"
head -c 150000 /dev/urandom >"$SRC/lib/deep/big.bin"
: >"$SRC/empty.py"
echo secret >"$SRC/.git/config"
expect_ok "mkfs" "$ESP01" fs mkfs "$SRC" -o "$TMP/my.img" --blocks 98 --mtime 1700000000
check "mkfs summary" grep -q "littlefs, 98 blocks of 4096 bytes; 5 files" "$TMP/out"
check "mkfs image size" test "$(stat -c %s "$TMP/my.img")" -eq $((98 * 4096))
expect_ok "check our image" "$ESP01" fs check "$TMP/my.img"
expect_ok "tree our image" "$ESP01" fs tree "$TMP/my.img"
check "dotfiles skipped" test "$(grep -c '\.git' "$TMP/out")" -eq 0
check "--mtime recorded" grep -q "2023-11-14 22:13:20  lib/deep/big.bin" "$TMP/out"
"$ESP01" fs cat "$TMP/my.img" lib/deep/big.bin >"$TMP/big.out"
check "mkfs + cat large file" cmp -s "$TMP/big.out" "$SRC/lib/deep/big.bin"
expect_ok "mkfs again" "$ESP01" fs mkfs "$SRC" -o "$TMP/my2.img" --blocks 98 --mtime 1700000000
check "mkfs is deterministic" cmp -s "$TMP/my.img" "$TMP/my2.img"
SOURCE_DATE_EPOCH=1700000000 "$ESP01" fs mkfs "$SRC" -o "$TMP/my3.img" --blocks 98 >/dev/null
check "SOURCE_DATE_EPOCH gives the same image" cmp -s "$TMP/my.img" "$TMP/my3.img"
expect_fail "mkfs without -o" 2 "mkfs needs -o" "$ESP01" fs mkfs "$SRC"
expect_fail "mkfs too small" 1 "partition has 3" "$ESP01" fs mkfs "$SRC" -o "$TMP/small.img" --blocks 3
check "failed mkfs leaves no output" test ! -e "$TMP/small.img"
expect_fail "mkfs missing dir" 1 "$TMP/nodir" "$ESP01" fs mkfs "$TMP/nodir" -o "$TMP/x.img"
# Under Wine (ESP01_WINE, tests/win32/tier.sh) only a link to a folder is a
# reparse point, as every link is on Windows; a link to a file shows as the
# file.  There the links below point to folders.
if [ -n "${ESP01_WINE:-}" ]; then lnk_to=/etc; else lnk_to=/etc/passwd; fi
mkdir -p "$TMP/lnk" && ln -s "$lnk_to" "$TMP/lnk/passwd"
expect_fail "mkfs refuses symlinks" 1 "passwd' is a symbolic link" "$ESP01" fs mkfs "$TMP/lnk" -o "$TMP/x.img"
expect_fail "mkfs bad --fs" 2 "littlefs or fat" "$ESP01" fs mkfs "$SRC" -o "$TMP/x.img" --fs ntfs

# MicroPython's files, written by us: same contents, no more blocks.
expect_ok "extract fixture" "$ESP01" fs extract "$MANY" "$TMP/many"
expect_ok "mkfs fixture files" "$ESP01" fs mkfs "$TMP/many" -o "$TMP/many.img" --blocks 250
"$TOOLS/lfs_dump" "$MANY" >"$TMP/a.tsv"; "$TOOLS/lfs_dump" "$TMP/many.img" >"$TMP/b.tsv"
check "rewritten fixture has the same files" cmp -s "$TMP/a.tsv" "$TMP/b.tsv"
"$ESP01" fs df "$TMP/many.img" >"$TMP/df"
used=$(sed -n 's/^ *statvfs *\([0-9]*\) used.*/\1/p' "$TMP/df")
check "density: <= MicroPython's 79 used blocks (statvfs)" test "$used" -le 79

# --- extract and its safety ---
expect_ok "extract" "$ESP01" fs extract "$TMP/my.img" "$TMP/out1"
check "extract matches the source" diff -r -x .git "$SRC" "$TMP/out1"
check "extract sets mtime" test "$(stat -c %Y "$TMP/out1/main.py")" -eq 1700000000
echo changed >"$TMP/out1/main.py"
expect_fail "extract will not overwrite" 1 "' already exists \(use --force to overwrite\)" "$ESP01" fs extract "$TMP/my.img" "$TMP/out1"
check "refused extract left the file alone" grep -qx changed "$TMP/out1/main.py"
expect_ok "extract --force" "$ESP01" fs extract "$TMP/my.img" "$TMP/out1" --force
check "--force overwrote" cmp -s "$SRC/main.py" "$TMP/out1/main.py"
mkdir -p "$TMP/out2" "$TMP/elsewhere"
ln -s "$TMP/elsewhere" "$TMP/out2/lib"
expect_fail "extract through a symlinked dir" 1 "symlink" "$ESP01" fs extract "$TMP/my.img" "$TMP/out2" --force
check "nothing written through the symlink" test -z "$(ls -A "$TMP/elsewhere")"
mkdir -p "$TMP/out3"
echo keep >"$TMP/target"
if [ -n "${ESP01_WINE:-}" ]; then
    mkdir -p "$TMP/targetdir" && echo keep >"$TMP/target" && ln -s "$TMP/targetdir" "$TMP/out3/main.py"
else
    ln -s "$TMP/target" "$TMP/out3/main.py"
fi
expect_fail "extract onto a symlinked file" 1 "'main.py' in the destination is a symlink" "$ESP01" fs extract "$TMP/my.img" "$TMP/out3" --force
check "symlink target untouched" grep -qx keep "$TMP/target"
mkdir -p "$TMP/jail"
expect_fail "extract refuses '..' names" 1 "named '\.\.': refused" "$ESP01" fs extract "$TMP/dotdot.img" "$TMP/jail/x"
expect_fail "extract refuses '/' in names" 1 "named 'a/b': refused" "$ESP01" fs extract "$TMP/slash.img" "$TMP/jail/y"
check "nothing escaped the destination" test -z "$(ls -A "$TMP/jail")"

finish
