# FAT image of a 500-file project (1000 blocks): our writer (through the
# fat_tool test program, so host file reading is included) against
# mformat + mcopy, the usual way to build such an image on a PC.
set -u
command -v mcopy >/dev/null || { echo "mtools not installed: skipped"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in $(seq -w 0 9); do
    mkdir -p "$tmp/src/pkg$d"
    for i in $(seq -w 0 49); do
        head -c $(( (10#$d * 50 + 10#$i) * 977 % 3997 + 100 )) /dev/zero | tr '\0' 'x' > "$tmp/src/pkg$d/module_number_$i.py"
    done
done
ours() { "$TOOLS/fat_tool" mkfs "$tmp/src" 1000 "$tmp/ours.img" >/dev/null; }
theirs() {
    rm -f "$tmp/mt.img"
    mformat -C -i "$tmp/mt.img" -T 1000 -h 255 -s 63 -S 5 -c 1 -r 4 -L 1 -d 1 :: >/dev/null
    (cd "$tmp/src" && mcopy -s -i "$tmp/mt.img" ./* ::/)
}
theirs && [ "$(mdir -/ -b -i "$tmp/mt.img" :: | grep -c module_number)" -eq 500 ] ||
    { echo "mcopy did not copy the 500 files"; exit 1; }
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 2 --runs 15 --shell=bash -n esp01-fat "$(declare -f ours); tmp=$tmp TOOLS=$TOOLS; ours" \
        -n mformat+mcopy "$(declare -f theirs); tmp=$tmp; theirs"
else
    for f in ours theirs; do
        s=$(date +%s%N); for _ in 1 2 3 4 5; do $f; done; e=$(date +%s%N)
        echo "$f: $(( (e - s) / 5000000 )) ms per image"
    done
fi
