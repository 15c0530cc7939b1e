# Cross-check the image parser and header patching against esptool-js
# (Espressif's flasher for the browser, npm package in tests/peers): its
# ESP8266 v1 image loader and the header update it applies when flashing.
. "$(dirname "$0")/../lib.sh"

PEER=$SRCDIR/tests/peers/node_modules/esptool-js/lib
if [ ! -f "$PEER/image/index.js" ]; then
    skip "esptool-js" "not installed: run (cd tests/peers && npm ci)"
    finish
fi
MKFW=$TOOLS/mkfw

# peer_parse FILE: esptool-js's reading of the v1 image as JSON.
peer_parse() {
    node --input-type=module -e "
        import { readFileSync } from 'fs';
        import { loadFirmwareImage } from '$PEER/image/index.js';
        import { ESP8266ROM } from '$PEER/targets/esp8266.js';
        const img = await loadFirmwareImage(new ESP8266ROM(), new Uint8Array(readFileSync(process.argv[1])));
        console.log(JSON.stringify({
            entry: img.entrypoint, mode: img.flashMode, sizefreq: img.flashSizeFreq,
            segments: img.segments.map(s => [s.addr, s.data.length, s.fileOffs + 8]),
            stored: img.checksum, computed: img.calculateChecksum() }));
    " "$1" 2>/dev/null
}

# ours FILE: the same facts from esp01 info --json.
ours() {
    "$ESP01" info --json "$1" | node -e '
        const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
        console.log(JSON.stringify({
            entry: j.header.entry, mode: j.header.flash_mode_code,
            sizefreq: j.header.flash_size_code << 4 | j.header.flash_freq_code,
            segments: j.segments.map(s => [s.load_address, s.length, s.file_offset]),
            stored: j.checksum.stored, computed: j.checksum.computed }));'
}

n=0
for opts in "" "--segments 2" "--tiny --no-trailer" "--header 3,4,15" "--header 2,9,1 --variant 2M" \
            "--corrupt checksum" "--variant 512K --seed 7" "--dump-size 1M"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$MKFW" $opts "$TMP/p$n.bin"
    theirs=$(peer_parse "$TMP/p$n.bin")
    mine=$(ours "$TMP/p$n.bin")
    if [ -n "$theirs" ] && [ "$theirs" = "$mine" ]; then ok "esptool-js reads the same image: ${opts:-default}"
    else fail "esptool-js reads the same image: ${opts:-default}" "esptool-js $theirs, esp01 $mine"; fi
done

# Both refuse a segment that runs past the end of the file.
"$MKFW" --corrupt segment-past-end "$TMP/past.bin"
if peer_parse "$TMP/past.bin" >/dev/null; then fail "esptool-js refuses too" "it parsed the image"
else ok "esptool-js refuses a segment past the end too"; fi
check "esp01 refuses a segment past the end" test "$("$ESP01" info "$TMP/past.bin" >/dev/null 2>&1; echo $?)" = 1

# Header bytes 2-3 for every mode/size/frequency, as esptool-js writes them
# when flashing at 0x0 (ESPLoader._updateImageFlashParams).
"$MKFW" --tiny --no-trailer "$TMP/h.bin"
"$TOOLS/patchhdr" "$TMP/h.bin" >"$TMP/ours.txt"
node --input-type=module -e "
    import { readFileSync } from 'fs';
    import { ESPLoader } from '$PEER/esploader.js';
    import { ESP8266ROM } from '$PEER/targets/esp8266.js';
    const image = new Uint8Array(readFileSync(process.argv[1]));
    const self = { chip: new ESP8266ROM(), ESP_IMAGE_MAGIC: 0xe9, info() {}, debug() {},
                   parseFlashSizeArg: ESPLoader.prototype.parseFlashSizeArg };
    const out = [];
    for (const line of readFileSync(process.argv[2], 'utf8').trim().split('\n')) {
        const [mode, size, freq] = line.split(' ');
        const sz = size.replace(/^(\d+)K/, '\$1KB').replace(/^(\d+)M/, '\$1MB');
        const img = await ESPLoader.prototype._updateImageFlashParams.call(self, image, 0, mode, freq, sz);
        out.push([mode, size, freq, img[2], img[3]].join(' '));
    }
    console.log(out.join('\n'));
" "$TMP/h.bin" "$TMP/ours.txt" >"$TMP/theirs.txt" 2>"$TMP/node.err"
check "header patching: 144 combinations compared" test "$(wc -l <"$TMP/theirs.txt")" -eq 144
if cmp -s "$TMP/ours.txt" "$TMP/theirs.txt"; then ok "header bytes 2-3 match esptool-js for every mode/size/frequency"
else fail "header bytes 2-3 match esptool-js" "$(diff "$TMP/ours.txt" "$TMP/theirs.txt" | head -5; head -3 "$TMP/node.err")"; fi

finish
