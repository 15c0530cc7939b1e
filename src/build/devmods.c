#include "esp01/devmods.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/fileio.h"
#include "os/os.h"

/* Shipped modules are small; this bounds what one read may take. */
#define MODULE_MAX (256u << 10)

struct ctx {
    esp01_tree *tree;
    const char *dir;
    esp01_devmods_result *res;
    char queue[ESP01_DEVMODS_MAX][ESP01_PY_NAME_MAX + 1];
    size_t queued;
    esp01_err *err;
};

static bool valid_name(const char *s)
{
    if (!*s || strlen(s) > ESP01_PY_NAME_MAX || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static bool is_shipped(const char *dir, const char *name)
{
    char path[4096 + ESP01_PY_NAME_MAX + 8];
    snprintf(path, sizeof path, "%s/%s.py", dir, name);
    return esp01_os_is_file(path);
}

static bool in_list(char list[][ESP01_PY_NAME_MAX + 1], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

static bool project_has(const esp01_tree *tree, const char *name)
{
    static const char *const forms[] = {"%s.py", "%s.mpy", "lib/%s.py", "lib/%s.mpy"};
    char path[ESP01_PY_NAME_MAX + 16];
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        snprintf(path, sizeof path, forms[i], name);
        if (esp01_tree_find(tree, path))
            return true;
    }
    return false;
}

static int consider(const char *name, void *vctx)
{
    struct ctx *c = vctx;
    if (!valid_name(name) || in_list(c->queue, c->queued, name) ||
        in_list(c->res->own, c->res->own_count, name) || !is_shipped(c->dir, name))
        return 0;
    if (project_has(c->tree, name)) {
        if (c->res->own_count < ESP01_DEVMODS_MAX)
            strcpy(c->res->own[c->res->own_count++], name);
        return 0;
    }
    if (c->queued == ESP01_DEVMODS_MAX)
        return esp01_fail(c->err, ESP01_E_LIMIT, "more than %d shipped modules asked for",
                          ESP01_DEVMODS_MAX);
    strcpy(c->queue[c->queued++], name);
    return 0;
}

int esp01_devmods_list(const char *dir, char *out, size_t n, esp01_err *err)
{
    esp01_os_dir *d;
    esp01_err oe;
    if (esp01_os_dir_open(dir, &d, &oe) < 0)
        return esp01_fail(err, ESP01_E_NOTFOUND, "cannot read '%s': %s", dir, oe.msg);
    char names[ESP01_DEVMODS_MAX][ESP01_PY_NAME_MAX + 1];
    size_t count = 0;
    const char *e;
    while (count < ESP01_DEVMODS_MAX && (e = esp01_os_dir_next(d)) != NULL) {
        size_t len = strlen(e);
        if (len < 4 || len - 3 > ESP01_PY_NAME_MAX || strcmp(e + len - 3, ".py") != 0)
            continue;
        memcpy(names[count], e, len - 3);
        names[count][len - 3] = '\0';
        if (valid_name(names[count]))
            count++;
    }
    esp01_os_dir_close(d);
    qsort(names, count, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    if (n)
        out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%s%s", i ? ", " : "", names[i]);
    }
    return 0;
}

int esp01_devmods_add(esp01_tree *tree, const char *dir, const char *with,
                      esp01_devmods_result *res, esp01_err *err)
{
    memset(res, 0, sizeof *res);
    struct ctx *c = calloc(1, sizeof *c);
    if (!c)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    c->tree = tree;
    c->dir = dir;
    c->res = res;
    c->err = err;
    int rc = 0;

    /* Names asked for by hand must exist. */
    for (const char *p = with ? with : ""; *p && rc == 0;) {
        size_t n = strcspn(p, ",");
        char name[ESP01_PY_NAME_MAX + 1];
        if (n > 0 && n <= ESP01_PY_NAME_MAX) {
            memcpy(name, p, n);
            name[n] = '\0';
            if (!valid_name(name) || !is_shipped(dir, name)) {
                char have[512];
                if (esp01_devmods_list(dir, have, sizeof have, NULL) < 0)
                    have[0] = '\0';
                rc = esp01_fail(err, ESP01_E_NOTFOUND,
                                "no shipped module '%s' (in %s: %s)", name, dir,
                                have[0] ? have : "none");
                break;
            }
            rc = consider(name, c);
        } else if (n > ESP01_PY_NAME_MAX) {
            rc = esp01_fail(err, ESP01_E_INVAL, "module name longer than %d in --with",
                            ESP01_PY_NAME_MAX);
        }
        p += n;
        if (*p == ',')
            p++;
    }

    /* Imports of the project's own sources (a snapshot: we add to the tree). */
    size_t n_project = tree->count;
    for (size_t i = 0; i < n_project && rc == 0; i++) {
        const esp01_entry *e = &tree->entries[i];
        size_t len = strlen(e->path);
        if (e->type != ESP01_ENTRY_FILE || len < 4 || strcmp(e->path + len - 3, ".py") != 0)
            continue;
        esp01_err serr;
        int src = esp01_py_imports(e->data, e->size, consider, c, &serr);
        if (src == ESP01_E_FORMAT) {
            if (!res->scan_warning[0])
                snprintf(res->scan_warning, sizeof res->scan_warning, "%.100s: %.200s",
                         e->path, serr.msg);
        } else if (src < 0) {
            rc = src; /* from consider(), which filled err */
        }
    }

    /* Add the queue; each added module may queue more. */
    for (size_t i = 0; i < c->queued && rc == 0; i++) {
        char path[4096 + ESP01_PY_NAME_MAX + 8], dest[ESP01_PY_NAME_MAX + 8];
        snprintf(path, sizeof path, "%s/%s.py", dir, c->queue[i]);
        snprintf(dest, sizeof dest, "lib/%s.py", c->queue[i]);
        uint8_t *data = NULL;
        size_t len = 0;
        rc = esp01_read_file(path, MODULE_MAX, &data, &len, err);
        if (rc == 0)
            rc = esp01_tree_add_file(tree, dest, data, len, err);
        if (rc == 0) {
            strcpy(res->added[res->added_count++], c->queue[i]);
            esp01_err serr;
            int src = esp01_py_imports(data, len, consider, c, &serr);
            if (src == ESP01_E_FORMAT)
                rc = esp01_fail(err, ESP01_E_FORMAT, "shipped %.200s: %.100s", path, serr.msg);
            else if (src < 0)
                rc = src;
        }
        free(data);
    }
    free(c);
    return rc;
}
