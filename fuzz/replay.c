/*
 * Replays a harness's corpus without libFuzzer: each argument is a file or a
 * folder of files, each file is one input.  Built with the ordinary compiler
 * (and the sanitizers in the SAN=1 build), so the quick test tier checks every
 * harness on every corpus entry with no clang build; `make fuzz` is still where
 * new inputs are found.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The largest input libFuzzer is given in tests/check.sh (-max_len). */
#define REPLAY_MAX (1u << 20)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *buf = malloc(REPLAY_MAX);
    size_t n = buf ? fread(buf, 1, REPLAY_MAX, f) : 0;
    fclose(f);
    if (!buf)
        return -1;
    /* A copy of exactly n bytes, so reading past the input is caught. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    long count = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            if (replay_file(argv[i]) != 0)
                return 2;
            count++;
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            if (replay_file(path) != 0) {
                closedir(d);
                return 2;
            }
            count++;
        }
        closedir(d);
    }
    printf("%ld inputs replayed\n", count);
    return count > 0 ? 0 : 1;
}
