/*
 * libFuzzer harness for the littlefs reader: mount + read everything,
 * usage, and the checker, on arbitrary bytes.  The reader probes block
 * sizes from 512 bytes up, so small inputs reach deep into the format.
 */
#include <stddef.h>
#include <stdint.h>

#include "esp01/littlefs.h"
#include "esp01/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esp01_err err;
    esp01_tree t = ESP01_TREE_INIT;
    esp01_lfs_read(data, size, &t, &err);
    esp01_tree_free(&t);
    esp01_fs_usage u;
    esp01_lfs_usage(data, size, &u, &err);
    esp01_lfs_check(data, size, ignore, NULL, &err);
    return 0;
}
