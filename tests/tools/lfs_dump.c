/*
 * lfs_dump IMAGE - one line per entry of a littlefs image, sorted by path:
 * "path<TAB>file|dir<TAB>size<TAB>sha256" (dirs: "-" for size and digest).
 * Used to compare our reader with the fixtures' manifest.json.
 */
#include <stdio.h>
#include <stdlib.h>

#include "esp01/fileio.h"
#include "esp01/hash.h"
#include "esp01/littlefs.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: lfs_dump IMAGE\n");
        return 2;
    }
    uint8_t *buf;
    size_t len;
    esp01_err err;
    if (esp01_read_file(argv[1], 1u << 26, &buf, &len, &err) < 0) {
        fprintf(stderr, "lfs_dump: %s\n", err.msg);
        return 1;
    }
    esp01_tree t = ESP01_TREE_INIT;
    int rc = esp01_lfs_read(buf, len, &t, &err);
    if (rc == 0)
        rc = esp01_tree_normalize(&t, &err);
    if (rc < 0) {
        fprintf(stderr, "lfs_dump: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < t.count; i++) {
        const esp01_entry *e = &t.entries[i];
        if (e->type == ESP01_ENTRY_DIR) {
            printf("%s\tdir\t-\t-\n", e->path);
            continue;
        }
        uint8_t d[32];
        char hex[65];
        esp01_sha256(e->data, e->size, d);
        esp01_hex(d, 32, hex);
        printf("%s\tfile\t%zu\t%s\n", e->path, e->size, hex);
    }
    esp01_tree_free(&t);
    free(buf);
    return 0;
}
