/*
 * libFuzzer harness: the FAT writer on trees made from the input (one entry
 * per line: a size byte, then a path), checked by reading the image back.
 * Whatever the writer accepts must read back with the same names, types and
 * bytes, and check clean.
 */
#include <stdlib.h>
#include <string.h>

#include "esp01/fat.h"

#define BLOCKS 60

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t img[BLOCKS * ESP01_FAT_SECTOR];
    static uint8_t content[16384];
    for (size_t i = 0; i < sizeof content; i++)
        content[i] = (uint8_t)(i * 7 + 3);
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err err;
    size_t pos = 0;
    char path[512];
    while (pos < size && t.count < 200) {
        uint8_t kind = data[pos++];
        size_t n = 0;
        while (pos < size && data[pos] != '\n' && n + 1 < sizeof path)
            path[n++] = (char)data[pos++];
        pos++;
        path[n] = '\0';
        if (memchr(path, '\0', n))
            continue;
        if (kind & 0x80)
            esp01_tree_add_dir(&t, path, &err);
        else
            esp01_tree_add_file(&t, path, content, (size_t)kind * 97, &err);
    }
    if (esp01_tree_normalize(&t, &err) == 0 &&
        esp01_fat_write(&t, BLOCKS, img, sizeof img, NULL, &err) == 0) {
        esp01_tree back = ESP01_TREE_INIT;
        if (esp01_fat_read(img, sizeof img, &back, &err) != 0 ||
            back.count != t.count ||
            esp01_fat_check(img, sizeof img, NULL, NULL, &err) != 0)
            __builtin_trap();
        for (size_t i = 0; i < t.count; i++) {
            const esp01_entry *w = &t.entries[i];
            const esp01_entry *g = esp01_tree_find(&back, w->path);
            if (!g || g->type != w->type || g->size != w->size ||
                (w->size && memcmp(g->data, w->data, w->size) != 0))
                __builtin_trap();
        }
        esp01_tree_free(&back);
    }
    esp01_tree_free(&t);
    return 0;
}
