#include "esp01/hostdir.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/fileio.h"
#include "os/os.h"

/* Deeper than any real project; stops runaway recursion on odd mounts. */
#define HOSTDIR_MAX_DEPTH 32
#define IGNORE_MAX_PATTERNS 256

typedef struct ignore_list {
    char *patterns[IGNORE_MAX_PATTERNS];
    size_t count;
} ignore_list;

static void ignore_free(ignore_list *ig)
{
    for (size_t i = 0; i < ig->count; i++)
        free(ig->patterns[i]);
    ig->count = 0;
}

static int ignore_load(ignore_list *ig, const char *dir, esp01_err *err)
{
    char path[ESP01_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.esp01ignore", dir);
    uint8_t *buf;
    size_t len;
    int rc = esp01_read_file(path, 1 << 20, &buf, &len, err);
    if (rc == ESP01_E_NOTFOUND) {
        esp01_err_clear(err);
        return 0;
    }
    if (rc < 0)
        return rc;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && buf[i] != '\n')
            continue;
        size_t end = i;
        while (end > start && (buf[end - 1] == '\r' || buf[end - 1] == ' ' ||
                               buf[end - 1] == '\t'))
            end--;
        size_t s = start;
        while (s < end && (buf[s] == ' ' || buf[s] == '\t'))
            s++;
        start = i + 1;
        if (s == end || buf[s] == '#')
            continue;
        if (ig->count == IGNORE_MAX_PATTERNS) {
            free(buf);
            return esp01_fail(err, ESP01_E_LIMIT,
                              "'%s' has more than %d patterns", path,
                              IGNORE_MAX_PATTERNS);
        }
        char *p = malloc(end - s + 1);
        if (!p) {
            free(buf);
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        }
        memcpy(p, buf + s, end - s);
        p[end - s] = '\0';
        ig->patterns[ig->count++] = p;
    }
    free(buf);
    return 0;
}

static bool ignored(const ignore_list *ig, const char *relpath,
                    const char *name, bool is_dir)
{
    for (size_t i = 0; i < ig->count; i++) {
        const char *pat = ig->patterns[i];
        size_t n = strlen(pat);
        char tmp[ESP01_PATH_MAX + 1];
        if (n > 0 && pat[n - 1] == '/') {
            if (!is_dir || n > ESP01_PATH_MAX)
                continue;
            memcpy(tmp, pat, n - 1);
            tmp[n - 1] = '\0';
            pat = tmp;
        }
        const char *p = pat[0] == '/' ? pat + 1 : pat;
        if (strchr(p, '/') || pat[0] == '/') {
            if (esp01_os_glob_match(p, relpath, true))
                return true;
        } else if (esp01_os_glob_match(p, name, false)) {
            return true;
        }
    }
    return false;
}

typedef struct walk {
    esp01_tree *tree;
    const esp01_hostdir_options *opt;
    const ignore_list *ignore;
    esp01_err *err;
} walk;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(walk *w, const char *hostdir, const char *rel, int depth)
{
    if (depth > HOSTDIR_MAX_DEPTH)
        return esp01_fail(w->err, ESP01_E_LIMIT,
                          "'%s' is nested more than %d directories deep",
                          hostdir, HOSTDIR_MAX_DEPTH);
    esp01_os_dir *d;
    esp01_err oe;
    int orc = esp01_os_dir_open(hostdir, &d, &oe);
    if (orc < 0)
        return esp01_fail(w->err, orc == ESP01_E_NOTFOUND ? orc : ESP01_E_IO,
                          "cannot open '%s': %s", hostdir, oe.msg);
    /* Sorted so the image does not depend on readdir order. */
    char **names = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    const char *de;
    while ((de = esp01_os_dir_next(d)) != NULL) {
        if (de[0] == '.')
            continue; /* dotfiles, ".", ".." */
        if (count == cap) {
            cap = cap ? cap * 2 : 32;
            char **n = realloc(names, cap * sizeof *n);
            if (!n) {
                rc = esp01_fail(w->err, ESP01_E_NOMEM, "out of memory");
                break;
            }
            names = n;
        }
        names[count] = strdup(de);
        if (!names[count]) {
            rc = esp01_fail(w->err, ESP01_E_NOMEM, "out of memory");
            break;
        }
        count++;
    }
    esp01_os_dir_close(d);
    if (rc == 0 && count > 1)
        qsort(names, count, sizeof *names, cmp_names);

    for (size_t i = 0; rc == 0 && i < count; i++) {
        char host[ESP01_PATH_MAX + 1], relpath[ESP01_PATH_MAX + 1];
        int hn = snprintf(host, sizeof host, "%s/%s", hostdir, names[i]);
        int rn = snprintf(relpath, sizeof relpath, "%s%s%s", rel,
                          *rel ? "/" : "", names[i]);
        if (hn < 0 || rn < 0 || (size_t)hn >= sizeof host ||
            (size_t)rn >= sizeof relpath) {
            rc = esp01_fail(w->err, ESP01_E_LIMIT, "path too long: '%s/%s'",
                            hostdir, names[i]);
            break;
        }
        esp01_os_info st;
        if (esp01_os_stat(host, false, &st, &oe) < 0) {
            rc = esp01_fail(w->err, ESP01_E_IO, "cannot stat '%s': %s", host,
                            oe.msg);
            break;
        }
        bool is_dir = st.type == ESP01_OS_DIRECTORY;
        if (ignored(w->ignore, relpath, names[i], is_dir))
            continue;
        if (st.type == ESP01_OS_SYMLINK) {
            rc = esp01_fail(w->err, ESP01_E_UNSUPPORTED,
                            "'%s' is a symbolic link; copy the file into the "
                            "project or list it in .esp01ignore", host);
            break;
        }
        if (w->tree->count >= w->opt->max_entries) {
            rc = esp01_fail(w->err, ESP01_E_LIMIT,
                            "'%s' has more than %zu files and directories",
                            hostdir, w->opt->max_entries);
            break;
        }
        if (is_dir) {
            rc = esp01_tree_add_dir(w->tree, relpath, w->err);
            if (rc == 0)
                rc = walk_dir(w, host, relpath, depth + 1);
        } else if (st.type == ESP01_OS_REGULAR) {
            uint8_t *data;
            size_t len;
            rc = esp01_read_file(host, w->opt->max_file_size, &data, &len,
                                 w->err);
            if (rc < 0)
                break;
            if (w->opt->keep_mtime) {
                rc = esp01_tree_add_file_mtime(w->tree, relpath, data, len, st.mtime_ns,
                                               w->err);
            } else {
                rc = esp01_tree_add_file(w->tree, relpath, data, len, w->err);
            }
            free(data);
            if (rc < 0 && w->err && w->err->code == ESP01_E_LIMIT) {
                /* name rules are the device's; say which host file broke them */
                char detail[ESP01_ERR_MAX];
                snprintf(detail, sizeof detail, "%s", w->err->msg);
                esp01_fail(w->err, rc, "'%s': %s", host, detail);
            }
        } else {
            rc = esp01_fail(w->err, ESP01_E_UNSUPPORTED,
                            "'%s' is not a regular file or directory", host);
        }
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

void esp01_hostdir_defaults(esp01_hostdir_options *opt)
{
    opt->max_file_size = 16u << 20;
    opt->max_entries = 10000;
    opt->keep_mtime = 1;
}

int esp01_hostdir_load(esp01_tree *tree, const char *dir, const char *prefix,
                       const esp01_hostdir_options *opt, esp01_err *err)
{
    esp01_hostdir_options defaults;
    if (!opt) {
        esp01_hostdir_defaults(&defaults);
        opt = &defaults;
    }
    esp01_os_info st;
    esp01_err oe;
    int orc = esp01_os_stat(dir, true, &st, &oe);
    if (orc < 0)
        return esp01_fail(err, orc == ESP01_E_NOTFOUND ? orc : ESP01_E_IO,
                          "cannot open '%s': %s", dir, oe.msg);
    if (st.type != ESP01_OS_DIRECTORY)
        return esp01_fail(err, ESP01_E_INVAL, "'%s' is not a directory", dir);
    if (prefix && *prefix) {
        int rc = esp01_tree_add_dir(tree, prefix, err);
        if (rc < 0)
            return rc;
    }
    ignore_list ig = {{0}, 0};
    int rc = ignore_load(&ig, dir, err);
    if (rc == 0) {
        walk w = {tree, opt, &ig, err};
        rc = walk_dir(&w, dir, prefix ? prefix : "", 0);
    }
    ignore_free(&ig);
    return rc;
}
