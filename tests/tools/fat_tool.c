/*
 * fat_tool - drives the FAT writer and reader from shell tests, so that
 * their output can be put in front of mtools and fsck.fat.
 *
 *   fat_tool mkfs DIR BLOCKS OUT     write DIR as a FAT partition image
 *   fat_tool ls IMG                  one line per entry: type size sha256 path
 *   fat_tool extract IMG DIR         write every file under DIR (must exist)
 *   fat_tool check IMG               list issues; exit 1 if there are any
 *   fat_tool df IMG                  cluster-size total used
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "esp01/fat.h"
#include "esp01/fileio.h"
#include "esp01/hash.h"
#include "esp01/hostdir.h"

static int die(const esp01_err *e)
{
    fprintf(stderr, "fat_tool: %s\n", e->msg);
    return 1;
}

static void print_issue(void *ctx, const char *msg)
{
    (void)ctx;
    printf("%s\n", msg);
}

int main(int argc, char **argv)
{
    esp01_err e = {0};
    if (argc == 5 && strcmp(argv[1], "mkfs") == 0) {
        esp01_tree t = ESP01_TREE_INIT;
        esp01_hostdir_options opt;
        esp01_hostdir_defaults(&opt);
        if (esp01_hostdir_load(&t, argv[2], NULL, &opt, &e) < 0)
            return die(&e);
        uint32_t blocks = (uint32_t)strtoul(argv[3], NULL, 0);
        size_t len = (size_t)blocks * ESP01_FAT_SECTOR;
        uint8_t *img = malloc(len ? len : 1);
        esp01_fs_usage u;
        int rc = esp01_fat_write(&t, blocks, img, len, &u, &e);
        esp01_tree_free(&t);
        if (rc < 0) {
            free(img);
            fprintf(stderr, "fat_tool: code %d: %s\n", rc, e.msg);
            return rc == ESP01_E_NOSPACE ? 3 : 1;
        }
        rc = esp01_write_file_atomic(argv[4], img, len, &e);
        free(img);
        if (rc < 0)
            return die(&e);
        printf("%u %u %u\n", (unsigned)u.block_size, (unsigned)u.blocks_total,
               (unsigned)u.blocks_used);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: fat_tool mkfs|ls|extract|check|df ...\n");
        return 2;
    }
    uint8_t *img;
    size_t len;
    if (esp01_read_file(argv[2], (size_t)1 << 30, &img, &len, &e) < 0)
        return die(&e);
    int status = 0;
    if (strcmp(argv[1], "check") == 0) {
        int n = esp01_fat_check(img, len, print_issue, NULL, &e);
        status = n < 0 ? die(&e) : n > 0;
    } else if (strcmp(argv[1], "df") == 0) {
        esp01_fs_usage u;
        if (esp01_fat_usage(img, len, &u, &e) < 0)
            status = die(&e);
        else
            printf("%u %u %u\n", (unsigned)u.block_size,
                   (unsigned)u.blocks_total, (unsigned)u.blocks_used);
    } else {
        esp01_tree t = ESP01_TREE_INIT;
        if (esp01_fat_read(img, len, &t, &e) < 0) {
            free(img);
            return die(&e);
        }
        for (size_t i = 0; i < t.count && status == 0; i++) {
            const esp01_entry *x = &t.entries[i];
            if (strcmp(argv[1], "ls") == 0) {
                uint8_t d[32];
                char hex[65];
                esp01_sha256(x->data, x->size, d);
                esp01_hex(d, 32, hex);
                printf("%s %zu %s %s\n", x->type == ESP01_ENTRY_DIR ? "dir" : "file",
                       x->size, x->type == ESP01_ENTRY_DIR ? "-" : hex, x->path);
            } else if (argc == 4 && strcmp(argv[1], "extract") == 0) {
                char out[8192];
                snprintf(out, sizeof out, "%s/%s", argv[3], x->path);
                if (x->type == ESP01_ENTRY_DIR) {
                    if (mkdir(out, 0755) < 0 && errno != EEXIST) {
                        perror(out);
                        status = 1;
                    }
                } else if (esp01_write_file_atomic(out, x->data, x->size, &e) < 0) {
                    status = die(&e);
                }
            } else {
                fprintf(stderr, "fat_tool: bad command\n");
                status = 2;
            }
        }
        esp01_tree_free(&t);
    }
    free(img);
    return status;
}
