# `esp01 fs extract` end to end (read the file, mount, write 500 files and
# 20 directories to disk) on the 1000-block, 500-file image that
# bench_littlefs writes; hyperfine when installed, else a timed loop.
set -u
dir=$(mktemp -d "${TMPDIR:-/tmp}/esp01-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
BENCH_IMAGE_OUT=$dir/big.img "$BUILD_DIR/bench/bench_littlefs" >/dev/null || exit 1
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --runs 50 \
        --prepare "rm -rf $dir/out" \
        "$ESP01 fs extract $dir/big.img $dir/out" 2>&1 | grep -E "Time|Range"
else
    n=50 total=0
    for i in $(seq $n); do
        rm -rf "$dir/out"
        t0=$(date +%s%N)
        "$ESP01" fs extract "$dir/big.img" "$dir/out" >/dev/null || exit 1
        total=$((total + $(date +%s%N) - t0))
    done
    echo "esp01 fs extract (1000 blocks, 500 files): mean $((total / n / 1000)) us over $n runs"
fi
