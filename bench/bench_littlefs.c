/*
 * littlefs writer/reader speed and density.
 *   - write a 98-block (ESP-01) image holding 30 files
 *   - write a 1000-block image holding 500 files in 20 directories
 *   - read that image back into memory (the library half of extract)
 *   - blocks used for the fixtures' file sets: ours vs MicroPython's
 * Times are the median of many runs, wall clock (CLOCK_MONOTONIC).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp01/fileio.h"
#include "esp01/littlefs.h"
#include "esp01/tree.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static void fill(esp01_tree *t, int files, int dirs, size_t max)
{
    static uint8_t data[16384];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 131 + (i >> 7));
    esp01_err err;
    for (int i = 0; i < files; i++) {
        char path[64];
        size_t size = ((size_t)i * 2654435761u) % max;
        if (dirs)
            snprintf(path, sizeof path, "dir%02d/file%03d.py", i % dirs, i);
        else
            snprintf(path, sizeof path, "file%02d.py", i);
        esp01_tree_add_file_mtime(t, path, data, size,
                                  1700000000000000000ull, &err);
    }
}

static int bench_write(const char *what, esp01_tree *t, uint32_t blocks,
                       int runs, uint8_t **keep, esp01_fs_usage *u)
{
    esp01_lfs_config cfg;
    esp01_lfs_config_micropython(&cfg, blocks);
    size_t len = (size_t)blocks * 4096;
    uint8_t *img = malloc(len);
    double *v = malloc(sizeof *v * (size_t)runs);
    esp01_err err;
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        if (esp01_lfs_write(&cfg, t, img, len, u, &err) < 0) {
            fprintf(stderr, "%s: %s\n", what, err.msg);
            return 1;
        }
        v[r] = now_ms() - t0;
    }
    printf("%-44s median %.3f ms over %d runs (%zu files, %zu bytes, "
           "%u/%u blocks)\n",
           what, median(v, runs), runs, t->count, esp01_tree_bytes(t),
           (unsigned)u->blocks_used, (unsigned)blocks);
    free(v);
    *keep = img;
    return 0;
}

static void density(const char *shared, const char *image, uint32_t blocks,
                    uint32_t mp_free)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fixtures/fs/%s", shared, image);
    uint8_t *buf;
    size_t len;
    esp01_err err;
    if (esp01_read_file(path, 1u << 24, &buf, &len, &err) < 0) {
        printf("%s: %s\n", image, err.msg);
        return;
    }
    esp01_tree t = ESP01_TREE_INIT;
    esp01_fs_usage theirs, ours;
    esp01_lfs_read(buf, len, &t, &err);
    esp01_lfs_usage(buf, len, &theirs, NULL, &err);
    esp01_lfs_config cfg;
    esp01_lfs_config_micropython(&cfg, blocks);
    uint8_t *img = malloc(len);
    esp01_lfs_write(&cfg, &t, img, len, &ours, &err);
    printf("%-24s blocks used: ours %3u, MicroPython's image %3u (statvfs "
           "said %u)\n",
           image, (unsigned)ours.blocks_used, (unsigned)theirs.blocks_used,
           (unsigned)(blocks - mp_free));
    free(img);
    free(buf);
    esp01_tree_free(&t);
}

int main(void)
{
    esp01_tree small = ESP01_TREE_INIT, large = ESP01_TREE_INIT;
    fill(&small, 30, 0, 9000);
    fill(&large, 500, 20, 8000);
    esp01_fs_usage u;
    uint8_t *a, *b;
    if (bench_write("write 98 blocks, 30 files", &small, 98, 500, &a, &u) ||
        bench_write("write 1000 blocks, 500 files", &large, 1000, 100, &b, &u))
        return 1;
    int runs = 100;
    double v[100];
    esp01_err err;
    for (int r = 0; r < runs; r++) {
        esp01_tree t = ESP01_TREE_INIT;
        double t0 = now_ms();
        if (esp01_lfs_read(b, 1000 * 4096, &t, &err) < 0) {
            fprintf(stderr, "read: %s\n", err.msg);
            return 1;
        }
        v[r] = now_ms() - t0;
        esp01_tree_free(&t);
    }
    printf("%-44s median %.3f ms over %d runs\n",
           "read 1000 blocks, 500 files into memory", median(v, runs), runs);
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        esp01_lfs_check(b, 1000 * 4096, NULL, NULL, NULL, &err);
        v[r] = now_ms() - t0;
    }
    printf("%-44s median %.3f ms over %d runs\n", "check 1000 blocks, 500 files",
           median(v, runs), runs);
    if (getenv("BENCH_IMAGE_OUT"))
        esp01_write_file_atomic(getenv("BENCH_IMAGE_OUT"), b, 1000 * 4096,
                                &err);
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    density(shared, "lfs2-esp01-fresh.img", 98, 96);
    density(shared, "lfs2-esp01-project.img", 98, 89);
    density(shared, "lfs2-2m-many.img", 250, 171);
    free(a);
    free(b);
    esp01_tree_free(&small);
    esp01_tree_free(&large);
    return 0;
}
