/*
 * devfs_ops.c - one-line operations on device paths: remove, mkdir, rmdir,
 * sha256 and free space.  Each sends one short statement and maps the
 * device's error to a message about the path.
 */
#include "esp01/devfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devfs_int.h"

static int simple_op(esp01_devfs *fs, const char *fmt, const char *path,
                     esp01_err *err)
{
    char lit[LIT_MAX], code[LIT_MAX + 64];
    int rc = devfs_path_literal(path, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    snprintf(code, sizeof code, fmt, lit);
    char *text = NULL;
    rc = devfs_run_small(fs, code, &text, err);
    free(text);
    return rc < 0 ? explain(rc, path, err) : 0;
}

int esp01_devfs_remove(esp01_devfs *fs, const char *path, esp01_err *err)
{
    return simple_op(fs, "os.remove(%s)", path, err);
}

int esp01_devfs_mkdir(esp01_devfs *fs, const char *path, esp01_err *err)
{
    if (!fs->has_mkdir)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "this device's filesystem has no directories");
    int rc = simple_op(fs, "os.mkdir(%s)", path, err);
    esp01_dev_entry st;
    /* Ports that raise unlisted errno numbers: look before explaining. */
    if (rc == ESP01_E_DEVICE && esp01_devfs_stat(fs, path, &st, NULL) == 0)
        return explain(ESP01_E_EXISTS, path, err);
    return rc;
}

int esp01_devfs_rmdir(esp01_devfs *fs, const char *path, esp01_err *err)
{
    if (!fs->has_mkdir)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "this device's filesystem has no directories");
    int rc = simple_op(fs, "os.rmdir(%s)", path, err);
    esp01_dev_entry *list;
    size_t n;
    if (rc == ESP01_E_DEVICE &&
        esp01_devfs_list(fs, path, &list, &n, NULL) == 0) {
        free(list);
        if (n)
            return esp01_fail(err, ESP01_E_EXISTS,
                              "':%s': the directory is not empty", path);
    }
    return rc;
}

int esp01_devfs_sha256(esp01_devfs *fs, const char *path, char hex[65],
                       esp01_err *err)
{
    if (!fs->has_sha256)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "the device has no hashlib.sha256");
    char lit[LIT_MAX], code[LIT_MAX + 32];
    int rc = devfs_path_literal(path, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    snprintf(code, sizeof code, "print(_eH(%s))", lit);
    char *text = NULL;
    rc = devfs_run_small(fs, code, &text, err);
    if (rc == 0) {
        size_t n = strspn(text, "0123456789abcdef");
        if (n != 64)
            rc = esp01_fail(err, ESP01_E_PROTOCOL,
                            "unexpected sha256 answer from the device");
        else {
            memcpy(hex, text, 64);
            hex[64] = '\0';
        }
    }
    free(text);
    return rc < 0 ? explain(rc, path, err) : 0;
}

int esp01_devfs_df(esp01_devfs *fs, const char *path, uint64_t *total,
                   uint64_t *avail, uint32_t *block_size, esp01_err *err)
{
    if (!fs->has_statvfs)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "the device firmware has no os.statvfs");
    char lit[LIT_MAX], code[LIT_MAX + 64];
    int rc = devfs_path_literal(path[0] ? path : "/", lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    snprintf(code, sizeof code, "s=os.statvfs(%s);print(s[1],s[2],s[4])", lit);
    char *text = NULL;
    rc = devfs_run_small(fs, code, &text, err);
    if (rc == 0) {
        unsigned long long bs, blocks, av;
        if (sscanf(text, "%llu %llu %llu", &bs, &blocks, &av) != 3 ||
            bs == 0 || bs > (1u << 24) || blocks > (1ull << 40) || av > blocks)
            rc = esp01_fail(err, ESP01_E_PROTOCOL,
                            "unexpected statvfs answer from the device");
        else {
            *total = bs * blocks;
            *avail = bs * av;
            *block_size = (uint32_t)bs;
        }
    }
    free(text);
    return rc < 0 ? explain(rc, path, err) : 0;
}
