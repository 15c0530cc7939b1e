/* libFuzzer harness: the FAT reader, checker and usage counter on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "esp01/fat.h"

static void ignore(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esp01_err err;
    esp01_tree tree = ESP01_TREE_INIT;
    if (esp01_fat_read(data, size, &tree, &err) == 0) {
        /* What the reader accepted must be writable elsewhere. */
        for (size_t i = 0; i < tree.count; i++)
            if (esp01_path_check(tree.entries[i].path, &err) < 0)
                __builtin_trap();
    }
    esp01_tree_free(&tree);
    esp01_fat_check(data, size, ignore, NULL, &err);
    esp01_fs_usage usage;
    esp01_fat_usage(data, size, &usage, &err);
    return 0;
}
