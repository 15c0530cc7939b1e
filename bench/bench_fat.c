/*
 * bench_fat - FAT writer and reader speed.
 *
 * Two workloads shaped like ESP8266 projects: 30 files (1..8 KiB) on a
 * 250-block (2 MiB flash) volume, and 500 files (100 B..4 KiB) in 10
 * directories on a 1000-block volume.  Each is written and read back many
 * times; the median of the repetitions is printed, in milliseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp01/fat.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static int make_tree(esp01_tree *t, int files, size_t min, size_t max,
                     int dirs)
{
    static uint8_t data[8192];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 131 + 7);
    esp01_err e;
    char path[128];
    for (int i = 0; i < files; i++) {
        size_t size = min + (size_t)i * 977 % (max - min + 1);
        if (dirs)
            snprintf(path, sizeof path, "pkg%02d/module_number_%03d.py",
                     i % dirs, i);
        else
            snprintf(path, sizeof path, "file_%02d.py", i);
        if (esp01_tree_add_file(t, path, data, size, &e) < 0) {
            fprintf(stderr, "bench_fat: %s\n", e.msg);
            return -1;
        }
    }
    return 0;
}

static int run(const char *label, uint32_t blocks, int files, size_t min,
               size_t max, int dirs, int reps)
{
    esp01_tree t = ESP01_TREE_INIT;
    if (make_tree(&t, files, min, max, dirs) < 0)
        return 1;
    size_t len = (size_t)blocks * ESP01_FAT_SECTOR;
    uint8_t *img = malloc(len);
    double *wt = malloc((size_t)reps * sizeof *wt);
    double *rt = malloc((size_t)reps * sizeof *rt);
    esp01_fs_usage u = {0};
    esp01_err e;
    int status = 0;
    for (int r = 0; r < reps && !status; r++) {
        double t0 = now_ms();
        if (esp01_fat_write(&t, blocks, img, len, &u, &e) < 0) {
            fprintf(stderr, "bench_fat: write: %s\n", e.msg);
            status = 1;
            break;
        }
        double t1 = now_ms();
        esp01_tree back = ESP01_TREE_INIT;
        if (esp01_fat_read(img, len, &back, &e) < 0 ||
            back.count != t.count + (size_t)dirs) {
            fprintf(stderr, "bench_fat: read back failed: %s\n", e.msg);
            status = 1;
        }
        double t2 = now_ms();
        esp01_tree_free(&back);
        wt[r] = t1 - t0;
        rt[r] = t2 - t1;
    }
    if (!status)
        printf("%-34s write %.3f ms  read %.3f ms  (median of %d; %u/%u "
               "clusters of %u bytes used, %zu bytes of files)\n",
               label, median(wt, reps), median(rt, reps), reps,
               (unsigned)u.blocks_used, (unsigned)u.blocks_total,
               (unsigned)u.block_size, esp01_tree_bytes(&t));
    free(wt);
    free(rt);
    free(img);
    esp01_tree_free(&t);
    return status;
}

int main(void)
{
    int status = run("250 blocks, 30 files", 250, 30, 1024, 8192, 0, 201);
    status |= run("1000 blocks, 500 files in 10 dirs", 1000, 500, 100, 4096,
                  10, 101);
    return status;
}
