/*
 * devfs_list.c - what is on the device: directory listings, recursive walks
 * (with hashes for sync) and stat.  The device prints one line per entry
 * with the name hex-encoded; parsing treats those lines as untrusted.
 */
#include "esp01/devfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devfs_int.h"

/* Decode a hex name from the device; false if malformed or unsafe. */
static bool decode_name(const char *hex, size_t hlen, char *out, size_t cap,
                        bool allow_slash)
{
    if (hlen == 0 || hlen % 2 || hlen / 2 >= cap)
        return false;
    for (size_t i = 0; i < hlen / 2; i++) {
        int a = hexval(hex[2 * i]), b = hexval(hex[2 * i + 1]);
        if (a < 0 || b < 0)
            return false;
        unsigned char c = (unsigned char)(a << 4 | b);
        if (c == 0 || (c == '/' && !allow_slash))
            return false;
        out[i] = (char)c;
    }
    out[hlen / 2] = '\0';
    if (!strcmp(out, ".") || !strcmp(out, ".."))
        return false;
    /* No empty, "." or ".." components in walked paths either. */
    for (const char *c = out; *c;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') ||
            (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += n + (e ? 1 : 0);
    }
    return true;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const esp01_dev_entry *)a)->name,
                  ((const esp01_dev_entry *)b)->name);
}

/*
 * Parse lines "T SIZE HEXNAME [SHA|-]" into entries.  Lines are device
 * output: anything malformed is a protocol error, never guessed at.
 */
static int parse_entries(const char *text, bool walk, size_t max,
                         esp01_dev_entry **out, size_t *count, esp01_err *err)
{
    esp01_dev_entry *list = NULL;
    size_t n = 0, cap = 0;
    const char *line = text;
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t llen = eol ? (size_t)(eol - line) : strlen(line);
        char buf[ESP01_DEVPATH_MAX * 2 + 100];
        if (llen && line[llen - 1] == '\r')
            llen--;
        if (llen == 0) {
            line += eol ? (size_t)(eol - line) + 1 : llen;
            if (!eol)
                break;
            continue;
        }
        if (llen >= sizeof buf) {
            free(list);
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "over-long listing line from the device");
        }
        memcpy(buf, line, llen);
        buf[llen] = '\0';
        char type, hex[ESP01_DEVPATH_MAX * 2 + 2], sha[80];
        unsigned long long size;
        int got = sscanf(buf, "%c %llu %513s %79s", &type, &size, hex, sha);
        if (got < 3 || (type != 'f' && type != 'd') || (walk && got != 4)) {
            free(list);
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "unexpected listing line from the device");
        }
        if (n == max) {
            free(list);
            return esp01_fail(err, ESP01_E_LIMIT,
                              "more than %zu entries on the device", max);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            esp01_dev_entry *nl = realloc(list, cap * sizeof *nl);
            if (!nl) {
                free(list);
                return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
            }
            list = nl;
        }
        esp01_dev_entry *e = &list[n];
        memset(e, 0, sizeof *e);
        if (!decode_name(hex, strlen(hex), e->name, sizeof e->name, walk)) {
            free(list);
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "the device listed a malformed name");
        }
        e->is_dir = type == 'd';
        e->size = size;
        if (got == 4 && strlen(sha) == 64) {
            bool ok = true;
            for (int i = 0; i < 64; i++)
                ok = ok && hexval(sha[i]) >= 0;
            if (ok) {
                memcpy(e->sha256, sha, 65);
                e->has_sha = true;
            }
        }
        n++;
        if (!eol)
            break;
        line = eol + 1;
    }
    if (n)
        qsort(list, n, sizeof *list, entry_cmp);
    *out = list;
    *count = n;
    return 0;
}

int esp01_devfs_parse_listing(const uint8_t *buf, size_t len, bool walk,
                              size_t max, esp01_dev_entry **out, size_t *count,
                              esp01_err *err)
{
    *out = NULL;
    *count = 0;
    char *text = malloc(len + 1);
    if (!text)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    memcpy(text, buf, len);
    text[len] = '\0';
    int rc = parse_entries(text, walk, max, out, count, err);
    free(text);
    return rc;
}

int esp01_devfs_list(esp01_devfs *fs, const char *dir, esp01_dev_entry **out,
                     size_t *count, esp01_err *err)
{
    char lit[LIT_MAX], code[LIT_MAX + 32];
    *out = NULL;
    *count = 0;
    int rc = devfs_path_literal(dir, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    if ((rc = devfs_need_listing(fs, err)) < 0)
        return rc;
    snprintf(code, sizeof code, "_eL(%s)", lit);
    char *text = NULL;
    rc = esp01_rawrepl_exec_capture(fs->repl, code, 4u << 20, &text, NULL,
                                    fs->timeout_ms, err);
    if (rc == 0)
        rc = parse_entries(text, false, 100000, out, count, err);
    free(text);
    return rc < 0 ? explain(rc, dir, err) : 0;
}

int esp01_devfs_walk(esp01_devfs *fs, const char *dir, bool hashes,
                     size_t max, esp01_dev_entry **out, size_t *count,
                     esp01_err *err)
{
    char lit[LIT_MAX], code[LIT_MAX + 32];
    *out = NULL;
    *count = 0;
    int rc = devfs_path_literal(dir, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    if ((rc = devfs_need_listing(fs, err)) < 0)
        return rc;
    snprintf(code, sizeof code, "_eW(%s,'',%d)", lit, hashes ? 1 : 0);
    char *text = NULL;
    rc = esp01_rawrepl_exec_capture(fs->repl, code, max * 700 + 1024, &text,
                                    NULL, fs->timeout_ms * 4, err);
    if (rc == 0)
        rc = parse_entries(text, true, max, out, count, err);
    free(text);
    return rc < 0 ? explain(rc, dir, err) : 0;
}

int esp01_devfs_stat(esp01_devfs *fs, const char *path, esp01_dev_entry *out,
                     esp01_err *err)
{
    char lit[LIT_MAX], code[LIT_MAX + 64];
    int rc = devfs_path_literal(path, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    snprintf(code, sizeof code, "t=_ex(%s);print(t[0],t[1])", lit);
    char *text = NULL;
    rc = devfs_run_small(fs, code, &text, err);
    if (rc == 0) {
        char type;
        unsigned long long size;
        memset(out, 0, sizeof *out);
        if (sscanf(text, "%c %llu", &type, &size) != 2 ||
            (type != 'f' && type != 'd'))
            rc = esp01_fail(err, ESP01_E_PROTOCOL,
                            "unexpected answer to stat from the device");
        else {
            out->is_dir = type == 'd';
            out->size = size;
            const char *base = strrchr(path, '/');
            snprintf(out->name, sizeof out->name, "%s", base ? base + 1 : path);
        }
    }
    free(text);
    return rc < 0 ? explain(rc, path, err) : 0;
}
