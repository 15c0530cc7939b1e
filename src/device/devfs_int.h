/*
 * devfs_int.h - what the devfs files share: the session plumbing in devfs.c
 * (generated code buffers, path literals, running code on the device,
 * turning device errors into messages) used by the listing, get, put and
 * one-line operations in devfs_list.c, devfs_get.c, devfs_put.c and
 * devfs_ops.c.
 */
#ifndef ESP01_DEVFS_INT_H
#define ESP01_DEVFS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "esp01/devfs.h"

/* Output cap for small commands (a stat, a probe). */
#define SMALL_OUTPUT 4096
/* Room for any device path as a Python string literal. */
#define LIT_MAX (ESP01_DEVPATH_MAX * 2 + 4)

/* A growing string for generated code; `failed` sticks after an
   allocation failure so callers check once at the end. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

void devfs_sb_add(struct sbuf *b, const char *s, size_t n);
void devfs_sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(ESP01_PRINTF_FORMAT, 2, 3)));

/*
 * A device path as a Python string literal.  Control bytes are refused;
 * UTF-8 goes through as is (the raw REPL carries bytes >= 0x80 fine).
 */
int devfs_path_literal(const char *path, char *out, size_t cap,
                       esp01_err *err);

/* Run a short command, capturing at most SMALL_OUTPUT bytes. */
int devfs_run_small(esp01_devfs *fs, const char *code, char **out,
                    esp01_err *err);

/* Define the listing helpers on the device unless this session has them. */
int devfs_need_listing(esp01_devfs *fs, esp01_err *err);

/* Turn a device error about `path` into a message users understand. */
int devfs_explain(const esp01_devfs *fs, int rc, const char *path,
                  esp01_err *err);
#define explain(rc, path, err) devfs_explain(fs, rc, path, err)

static inline int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

#endif
