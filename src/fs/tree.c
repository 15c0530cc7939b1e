#include "esp01/tree.h"

#include <stdlib.h>
#include <string.h>

void esp01_tree_init(esp01_tree *tree)
{
    tree->entries = NULL;
    tree->count = 0;
    tree->capacity = 0;
}

void esp01_tree_free(esp01_tree *tree)
{
    if (!tree)
        return;
    for (size_t i = 0; i < tree->count; i++) {
        free(tree->entries[i].path);
        free(tree->entries[i].data);
    }
    free(tree->entries);
    esp01_tree_init(tree);
}

int esp01_path_check(const char *path, esp01_err *err)
{
    size_t len = strlen(path);
    if (len == 0)
        return esp01_fail(err, ESP01_E_INVAL, "empty path");
    if (len > ESP01_PATH_MAX)
        return esp01_fail(err, ESP01_E_LIMIT, "path longer than %d bytes",
                          ESP01_PATH_MAX);
    const char *p = path;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0)
            return esp01_fail(err, ESP01_E_INVAL,
                              "path '%s' has an empty component", path);
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return esp01_fail(err, ESP01_E_INVAL,
                              "path '%s' has a '.' or '..' component", path);
        if (n > ESP01_NAME_MAX)
            return esp01_fail(err, ESP01_E_LIMIT,
                              "name in '%s' is %zu bytes, more than %d", path,
                              n, ESP01_NAME_MAX);
        if (!slash)
            break;
        p = slash + 1;
        if (!*p)
            return esp01_fail(err, ESP01_E_INVAL,
                              "path '%s' ends with '/'", path);
    }
    return 0;
}

static esp01_entry *find_mut(const esp01_tree *tree, const char *path)
{
    for (size_t i = 0; i < tree->count; i++)
        if (strcmp(tree->entries[i].path, path) == 0)
            return &tree->entries[i];
    return NULL;
}

const esp01_entry *esp01_tree_find(const esp01_tree *tree, const char *path)
{
    return find_mut(tree, path);
}

static int push(esp01_tree *tree, const char *path, esp01_entry_type type,
                const uint8_t *data, size_t size, bool has_mtime,
                uint64_t mtime_ns, esp01_err *err)
{
    int rc = esp01_path_check(path, err);
    if (rc < 0)
        return rc;
    esp01_entry *old = find_mut(tree, path);
    if (old) {
        if (old->type == ESP01_ENTRY_DIR && type == ESP01_ENTRY_DIR)
            return 0;
        return esp01_fail(err, ESP01_E_EXISTS, "'%s' added twice", path);
    }
    if (tree->count == tree->capacity) {
        size_t cap = tree->capacity ? tree->capacity * 2 : 16;
        esp01_entry *n = realloc(tree->entries, cap * sizeof *n);
        if (!n)
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        tree->entries = n;
        tree->capacity = cap;
    }
    esp01_entry e = {0};
    e.path = strdup(path);
    if (!e.path)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    e.type = type;
    if (type == ESP01_ENTRY_FILE && size > 0) {
        e.data = malloc(size);
        if (!e.data) {
            free(e.path);
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        }
        memcpy(e.data, data, size);
    }
    e.size = type == ESP01_ENTRY_FILE ? size : 0;
    e.has_mtime = has_mtime;
    e.mtime_ns = mtime_ns;
    tree->entries[tree->count++] = e;
    return 0;
}

int esp01_tree_add_file(esp01_tree *tree, const char *path,
                        const uint8_t *data, size_t size, esp01_err *err)
{
    return push(tree, path, ESP01_ENTRY_FILE, data, size, false, 0, err);
}

int esp01_tree_add_file_mtime(esp01_tree *tree, const char *path,
                              const uint8_t *data, size_t size,
                              uint64_t mtime_ns, esp01_err *err)
{
    return push(tree, path, ESP01_ENTRY_FILE, data, size, true, mtime_ns, err);
}

int esp01_tree_add_dir(esp01_tree *tree, const char *path, esp01_err *err)
{
    return push(tree, path, ESP01_ENTRY_DIR, NULL, 0, false, 0, err);
}

static int cmp_entry(const void *a, const void *b)
{
    const esp01_entry *x = a, *y = b;
    return strcmp(x->path, y->path);
}

int esp01_tree_normalize(esp01_tree *tree, esp01_err *err)
{
    /* Parents of parents are added as the loop reaches the new entries. */
    for (size_t i = 0; i < tree->count; i++) {
        char *slash = strrchr(tree->entries[i].path, '/');
        if (!slash)
            continue;
        size_t n = (size_t)(slash - tree->entries[i].path);
        char *parent = malloc(n + 1);
        if (!parent)
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        memcpy(parent, tree->entries[i].path, n);
        parent[n] = '\0';
        esp01_entry *p = find_mut(tree, parent);
        int rc = 0;
        if (!p)
            rc = esp01_tree_add_dir(tree, parent, err);
        else if (p->type != ESP01_ENTRY_DIR)
            rc = esp01_fail(err, ESP01_E_EXISTS,
                            "'%s' is a file but '%s' needs it as a directory",
                            parent, tree->entries[i].path);
        free(parent);
        if (rc < 0)
            return rc;
    }
    if (tree->count > 1)
        qsort(tree->entries, tree->count, sizeof *tree->entries, cmp_entry);
    return 0;
}

size_t esp01_tree_bytes(const esp01_tree *tree)
{
    size_t total = 0;
    for (size_t i = 0; i < tree->count; i++)
        total += tree->entries[i].size;
    return total;
}
