# esp01 info on synthetic firmware from tests/tools/mkfw, cross-checked with
# independent tools: md5sum/od for the trailer and checksum, node for the
# JSON, and real MicroPython filesystem images from $SHARED for flash dumps.
. "$(dirname "$0")/../lib.sh"

MKFW=$TOOLS/mkfw
FIX=$SHARED/fixtures/fs
mkdir -p "$TMP/proj"
echo 'print("hello")' >"$TMP/proj/main.py"

# json FILE EXPR: evaluate EXPR with j = the parsed JSON, print the result.
json() {
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
             const v = eval(process.argv[2]); console.log(typeof v === "object" ? JSON.stringify(v) : v)' "$1" "$2"
}

# --- a stock-looking v1.22.1 1M firmware -----------------------------------
"$MKFW" --variant 1M --version v1.22.1 --date 2024-01-05 "$TMP/fw.bin"
expect_ok "info runs on a 1M firmware" "$ESP01" info "$TMP/fw.bin"
cp "$TMP/out" "$TMP/fw.txt"

check "text: version" grep -q '^version: *v1.22.1 on 2024-01-05$' "$TMP/fw.txt"
check "text: board and variant" grep -q '^variant: *1M$' "$TMP/fw.txt"
check "text: header decoded" grep -q '^header: *flash mode qio, size 1M, frequency 40m, entry 0x40100298$' "$TMP/fw.txt"
check "text: IRAM segment" grep -Eq '^ +0 +load 0x40100000 +28436 bytes +IRAM' "$TMP/fw.txt"
check "text: DRAM segments" test "$(grep -c 'DRAM' "$TMP/fw.txt")" -eq 2
check "text: littlefs named" grep -q '^can mount:  littlefs v2 (VfsLfs2)$' "$TMP/fw.txt"
check "text: not a flash dump" grep -q ', MicroPython firmware$' "$TMP/fw.txt"
# ESP-01 (1 MiB): FS at 0x99000, 98 blocks (flashbdev.py with esp8266_1MiB.ld)
check "text: 1M chip row" grep -Eq '^  1M +0x0-0x095010 +0x098000 +0x099000 +98 +littlefs +393216 +0x0FB000$' "$TMP/fw.txt"
check "text: 512K cannot run" grep -Eq '^  512K +cannot run: the 1M build needs at least 1 MiB' "$TMP/fw.txt"

# Trailer: the length word and MD5 as independent tools read them.
lw=$(od -An -tu4 -j $((0x8FFC)) -N4 "$TMP/fw.bin" | tr -d ' ')
md5=$(tail -c +5 "$TMP/fw.bin" | head -c $((lw - 4)) | md5sum | cut -d' ' -f1)
check "text: md5 matches md5sum of file[4:len]" grep -q "^md5: *$md5 at 0x$(printf %X "$lw"), ok" "$TMP/fw.txt"
check "text: irom0 size from the length word" grep -q "^irom0: *$((lw - 0x9000)) bytes at 0x9000" "$TMP/fw.txt"

# Checksum: 0xEF XOR every segment data byte, computed here by node from
# the segment table offsets of this 3-segment image.
xor=$(node -e 'const b = require("fs").readFileSync(process.argv[1]); let x = 0xEF;
    for (const [o, n] of [[16, 28436], [28460, 872], [29340, 4280]]) for (let i = o; i < o + n; i++) x ^= b[i];
    console.log(x.toString(16).toUpperCase().padStart(2, "0"))' "$TMP/fw.bin")
check "text: checksum matches an independent XOR" grep -q "^checksum: *0x$xor at 0x835F, ok$" "$TMP/fw.txt"

# --- JSON ---------------------------------------------------------------------
expect_ok "info --json runs" "$ESP01" info --json "$TMP/fw.bin"
cp "$TMP/out" "$TMP/fw.json"
check "json: parses" node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$TMP/fw.json"
check "json: version" test "$(json "$TMP/fw.json" j.version)" = "v1.22.1 on 2024-01-05"
check "json: release" test "$(json "$TMP/fw.json" j.release)" = "1.22.1"
check "json: variant" test "$(json "$TMP/fw.json" j.variant)" = "1M"
check "json: board" test "$(json "$TMP/fw.json" j.board)" = "ESP module (1M)"
check "json: header" test "$(json "$TMP/fw.json" '[j.header.flash_mode, j.header.flash_size, j.header.flash_freq, j.header.entry].join()')" = "qio,1M,40m,1074791064"
check "json: segments" test "$(json "$TMP/fw.json" 'j.segments.map(s => s.memory + s.length).join()')" = "IRAM28436,DRAM872,DRAM4280"
check "json: checksum" test "$(json "$TMP/fw.json" 'j.checksum.ok && j.checksum.stored.toString(16).toUpperCase().padStart(2, "0")')" = "$xor"
check "json: md5" test "$(json "$TMP/fw.json" 'j.trailer.md5_ok && j.trailer.md5')" = "$md5"
check "json: length word" test "$(json "$TMP/fw.json" j.trailer.length_word)" = "$lw"
check "json: firmware size" test "$(json "$TMP/fw.json" j.trailer.firmware_size)" = "$(stat -c %s "$TMP/fw.bin")"
check "json: filesystems" test "$(json "$TMP/fw.json" 'j.filesystems.join()')" = "littlefs2"
check "json: not a dump" test "$(json "$TMP/fw.json" j.flash_dump)" = "false"
check "json: six chip sizes" test "$(json "$TMP/fw.json" 'j.flash_map.map(m => m.chip).join()')" = "512K,1M,2M,4M,8M,16M"
check "json: 1M map" test "$(json "$TMP/fw.json" '(m => [m.fs_start, m.fs_blocks, m.reserved_sector, m.sdk_start, m.fs_default].join())(j.flash_map[1])')" = "626688,98,622592,1028096,littlefs"
# 4 MiB: (4194304 - 20480) / 4096 - 0x99 = 866
check "json: 4M blocks" test "$(json "$TMP/fw.json" 'j.flash_map[3].fs_blocks')" = 866
check "json: 512K reason" test "$(json "$TMP/fw.json" 'j.flash_map[0].runs + ":" + /1 MiB/.test(j.flash_map[0].why_not)')" = "false:true"
check "json: no layout error" test "$(json "$TMP/fw.json" j.layout_error)" = "null"

# --- other variants and releases ------------------------------------------
"$MKFW" --variant 2M --version v1.22.1 "$TMP/g.bin"
"$ESP01" info --json "$TMP/g.bin" >"$TMP/g.json"
check "2M+: FS at 0x100000, 251 blocks on 2M" test "$(json "$TMP/g.json" '[j.variant, j.flash_map[2].fs_start, j.flash_map[2].fs_blocks, j.flash_map[2].reserved_sector].join()')" = "2M+,1048576,251,"
# On a 1 MiB chip (an ESP-01) the 2M+ build boots, but its filesystem would
# start at 0x100000, the chip's end: nothing saved survives (facts 3).
check "2M+: boots on 1M, without a filesystem" \
    test "$(json "$TMP/g.json" '[j.flash_map[1].runs, j.flash_map[1].has_fs, j.flash_map[1].fs_start, j.flash_map[1].firmware_end > 0].join()')" = "true,false,,true"
check "2M+ on 1M: json says why" \
    test "$(json "$TMP/g.json" '/^boots to the REPL, but .*filesystem at 0x100000, past the end of a 1 MiB chip: nothing saved survives a reset$/.test(j.flash_map[1].why_not)')" = true
check "2M+: cannot run on 512K" test "$(json "$TMP/g.json" 'j.flash_map[0].runs')" = false
"$ESP01" info "$TMP/g.bin" >"$TMP/g.txt"
check "2M+ on 1M: text row says it boots and keeps nothing" \
    grep -Eq '^  1M +0x0-0x[0-9A-F]+ +- +no filesystem: boots to the REPL, but .* at 0x100000, past the end of a 1 MiB chip: nothing saved survives a reset; sdk area 0x0FB000$' "$TMP/g.txt"
check "2M+ on 1M: not called unable to run" sh -c "! grep -q '^  1M  *cannot run' '$TMP/g.txt'"
check "2M+: lfs2 and fat" test "$(json "$TMP/g.json" 'j.filesystems.join()')" = "littlefs2,fat"

"$MKFW" --variant 2M --version v1.9.4 --date 2018-05-11 "$TMP/old.bin"
"$ESP01" info --json "$TMP/old.bin" >"$TMP/old.json"
check "v1.9.4: FAT at 0x99000 on 4M" test "$(json "$TMP/old.json" '[j.flash_map[3].fs_start, j.flash_map[3].fs_blocks, j.flash_map[3].fs_default, j.layout_source.releases].join()')" = "626688,866,fat,v1.9 to v1.12"

"$MKFW" --variant 512K --version v1.19.1 --date 2022-06-18 "$TMP/s.bin"
"$ESP01" info "$TMP/s.bin" >"$TMP/s.txt"
check "512K: runs on 512K without FS" grep -Eq '^  512K +0x0-0x[0-9A-F]+ +- +no filesystem: the 512K build has no filesystem' "$TMP/s.txt"

# v1.9-v1.11 built the 512K firmware under the plain name, without the
# inline assembler and without VFS (its frozen inisetup.py still says VfsFat).
"$MKFW" --variant 512K --version v1.10 --date 2019-01-25 "$TMP/s10.bin"
"$ESP01" info --json "$TMP/s10.bin" >"$TMP/s10.json"
check "v1.10 512K: told from the generic build" test "$(json "$TMP/s10.json" '[j.board, j.variant, j.filesystems.length, j.flash_map[0].runs, j.flash_map[1].has_fs].join()')" = "ESP module,512K,0,true,false"

"$MKFW" --variant romfs --version v1.25.0 --date 2025-04-15 --split-banner "$TMP/r.bin"
"$ESP01" info --json "$TMP/r.bin" >"$TMP/r.json"
check "ROMFS: recognised, split banner read" test "$(json "$TMP/r.json" '[j.variant, j.version, j.flash_map[2].romfs_start, j.flash_map[2].fs_start].join()')" = "2M-ROMFS,v1.25.0 on 2025-04-15,720896,1048576"

"$MKFW" --variant 1M --version v1.12 --date 2019-12-20 "$TMP/u.bin"
expect_ok "unknown layout is reported, not fatal" "$ESP01" info "$TMP/u.bin"
check "unknown layout: says why" grep -q '^flash map:  unknown: layout unknown for the 1M build of v1.12 on 2019-12-20' "$TMP/out"
"$ESP01" info --json "$TMP/u.bin" >"$TMP/u.json"
check "unknown layout: json" test "$(json "$TMP/u.json" 'j.flash_map.length + ":" + (j.layout_error !== null)')" = "0:true"

# OTA builds use another flash map: refused with the reason, still explained.
"$MKFW" --irom-link 0x40245000 "$TMP/ota.bin"
expect_ok "OTA-linked firmware explained" "$ESP01" info "$TMP/ota.bin"
check "OTA-linked: irom0 link address shown" grep -q 'linked at 0x40245000 (OTA build)' "$TMP/out"
check "OTA-linked: layout refused" grep -q '^flash map:  unknown: .*OTA build' "$TMP/out"
check "standard link shown" grep -q 'linked at 0x40209000 (standard build)' "$TMP/fw.txt"
"$MKFW" --ota-bundle "$TMP/otab.bin"
"$ESP01" info --json "$TMP/otab.bin" >"$TMP/otab.json"
check "OTA download: recognised" test "$(json "$TMP/otab.json" '[j.ota_bundle, j.trailer, j.version, /OTA download/.test(j.layout_error)].join()')" = "true,,v1.22.1 on 2024-01-05,true"

# --- flash dumps with real MicroPython filesystems ---------------------------
"$MKFW" --variant 1M --dump-size 1M --put "0x99000:$FIX/lfs2-esp01-project.img" "$TMP/dump.bin"
expect_ok "1 MiB dump with a real littlefs" "$ESP01" info "$TMP/dump.bin"
check "dump: said so" grep -q '^flash dump: yes' "$TMP/out"
check "dump: littlefs found at 0x99000" grep -q '^filesystem: littlefs at 0x99000 (chip size 1M from the file size)$' "$TMP/out"
check "dump: md5 still ok" grep -q '^md5: .* ok' "$TMP/out"

"$MKFW" --variant 2M --header 2,3,0 --put "0x100000:$FIX/fat-2m-project.img" "$TMP/fat.bin"
"$ESP01" info --json "$TMP/fat.bin" >"$TMP/fat.json"
check "build output with a real FAT, chip from header" test "$(json "$TMP/fat.json" '[j.flash_dump, j.filesystem_present.found, j.filesystem_present.offset, j.filesystem_present.chip_from, j.header.flash_mode].join()')" = "true,fat,1048576,header,dio"

"$MKFW" --variant 1M --dump-size 1M "$TMP/blank.bin"
"$ESP01" info "$TMP/blank.bin" >"$TMP/out"
check "dump: erased FS area" grep -q '^filesystem: none, erased' "$TMP/out"

# The same old firmware built into a 4 MiB image: FAT at 0x99000, as
# inisetup.py of that release would have formatted it.
if "$ESP01" build "$TMP/proj" --firmware "$TMP/old.bin" --flash-size 4M -o "$TMP/oldbuilt.bin" >/dev/null 2>&1; then
    "$ESP01" info --json "$TMP/oldbuilt.bin" >"$TMP/oldbuilt.json"
    check "v1.9.4 build output: FAT at 0x99000 (chip from header)" test "$(json "$TMP/oldbuilt.json" '[j.filesystem_present.found, j.filesystem_present.offset, j.filesystem_present.chip].join()')" = "fat,626688,4M"
    # mtools reads the partition at that offset as a FAT volume
    if command -v mdir >/dev/null; then
        check "v1.9.4 build output: mtools lists main.py" sh -c "MTOOLS_SKIP_CHECK=1 mdir -b -i '$TMP/oldbuilt.bin@@626688' :: | grep -qi main.py"
    else
        skip "v1.9.4 build output: mtools" "mtools not installed"
    fi
else
    fail "v1.9.4 build output" "esp01 build failed on the synthetic v1.9.4 firmware"
fi

# esp01 build output: firmware + littlefs, header patched to dout, ends at the SDK area.
if "$ESP01" build "$TMP/proj" --firmware "$TMP/fw.bin" -o "$TMP/built.bin" >/dev/null 2>&1; then
    "$ESP01" info --json "$TMP/built.bin" >"$TMP/built.json"
    check "build output: littlefs at 0x99000, dout header, md5 kept" test "$(json "$TMP/built.json" '[j.flash_dump, j.filesystem_present.found, j.filesystem_present.offset, j.filesystem_present.chip_from, j.header.flash_mode, j.trailer.md5_ok, j.checksum.ok].join()')" = "true,littlefs,626688,header,dout,true,true"
else
    fail "build output" "esp01 build failed on the synthetic firmware"
fi

# --- damage that is reported, not fatal --------------------------------------
"$MKFW" --corrupt checksum "$TMP/bc.bin"
expect_ok "bad checksum is not fatal" "$ESP01" info "$TMP/bc.bin"
check "bad checksum reported" grep -q '^checksum: .*, BAD$' "$TMP/out"
check "bad checksum: md5 still ok" grep -q '^md5: .* ok' "$TMP/out"
"$MKFW" --corrupt md5 "$TMP/bm.bin"
expect_ok "bad md5 is not fatal" "$ESP01" info --json "$TMP/bm.bin"
check "bad md5 reported" test "$(json "$TMP/out" '[j.trailer.md5_ok, j.checksum.ok, j.version !== null].join()')" = "false,true,true"

# --- bad input: one line, exit 1 ---------------------------------------------
: >"$TMP/empty.bin"
expect_fail "empty file" 1 "^esp01: .*empty.bin: empty file$" "$ESP01" info "$TMP/empty.bin"
head -c 100000 /dev/urandom | tr '\351' '\000' >"$TMP/random.bin"
expect_fail "random bytes" 1 "^esp01: .*random.bin: not an ESP8266 firmware image: byte at 0x0 is 0x[0-9A-F]{2}, expected 0xE9$" "$ESP01" info "$TMP/random.bin"
"$MKFW" --corrupt magic "$TMP/magic.bin"
expect_fail "wrong magic" 1 "byte at 0x0 is 0xEA, expected 0xE9" "$ESP01" info "$TMP/magic.bin"
"$MKFW" --corrupt segment-past-end "$TMP/past.bin"
expect_fail "segment past end" 1 "segment 2 at 0x7294: .* run past the end of the file" "$ESP01" info "$TMP/past.bin"
"$MKFW" --truncate 0x80000 "$TMP/trunc.bin"
expect_fail "truncated firmware" 1 "truncated: the length word at 0x8FFC says the firmware ends at 0x95000" "$ESP01" info "$TMP/trunc.bin"
"$MKFW" --truncate 0x5000 "$TMP/trunc2.bin"
expect_fail "truncated in a segment" 1 "segment 0 at 0x8: 28436 bytes of data run past the end" "$ESP01" info "$TMP/trunc2.bin"
printf 'hi\n' >"$TMP/short.txt"
expect_fail "short text file" 1 "short.txt: not an ESP8266 firmware image: byte at 0x0 is 0x68" "$ESP01" info "$TMP/short.txt"
printf '\351\001' >"$TMP/short.bin"
expect_fail "short image" 1 "short.bin: truncated: the image header needs 8 bytes, the file has 2" "$ESP01" info "$TMP/short.bin"
expect_fail "littlefs partition: pointed to esp01 fs" 1 "lfs2-esp01-project.img: not an ESP8266 firmware image: byte at 0x0 is 0x01, expected 0xE9; it holds a littlefs partition \\(see 'esp01 fs ls " "$ESP01" info "$FIX/lfs2-esp01-project.img"
expect_fail "FAT partition: pointed to esp01 fs" 1 "fat-2m-project.img: .*; it holds a fat partition" "$ESP01" info "$FIX/fat-2m-project.img"
expect_fail "missing file" 1 "^esp01: .*nope.bin.*No such file" "$ESP01" info "$TMP/nope.bin"
for f in empty random magic past trunc trunc2; do
    "$ESP01" info "$TMP/$f.bin" 2>"$TMP/err" >/dev/null
    check "one-line error: $f" test "$(wc -l <"$TMP/err")" -eq 1
done

# --- usage -------------------------------------------------------------------
expect_ok "--help" "$ESP01" info --help
check "--help mentions --json" grep -q -- '--json' "$TMP/out"
# Without a FILE, info describes the connected board: no port is an error.
ESP01_PORT= ESP01_SYSFS_ROOT=$TMP/none ESP01_DEV_ROOT=$TMP/none expect_fail "no FILE and no port" 1 \
    "^esp01: no USB serial port found .*give --port PATH or set ESP01_PORT" "$ESP01" info
expect_fail "no FILE, port missing" 1 "^esp01: cannot open '/nonexistent/tty': (No such file or directory|no such port)" \
    "$ESP01" info --port /nonexistent/tty
expect_fail "unknown option" 2 "unknown option '--bogus'" "$ESP01" info --bogus "$TMP/fw.bin"
expect_fail "two files" 2 "one FILE at a time" "$ESP01" info "$TMP/fw.bin" "$TMP/fw.bin"

finish
