/* The port list every listing shares (serlist.h). */
#include "os/serlist.h"

#include <stdlib.h>
#include <string.h>

void esp01_serlist_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

const char *esp01_serlist_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The digits at the end compare as numbers. */
static int natural(const void *pa, const void *pb)
{
    const char *a = ((const esp01_serial_port *)pa)->name;
    const char *b = ((const esp01_serial_port *)pb)->name;
    size_t la = strcspn(a, "0123456789"), lb = strcspn(b, "0123456789");
    if (la != lb || strncmp(a, b, la) != 0)
        return strcmp(a, b);
    size_t da = strlen(a + la), db = strlen(b + lb);
    if (da != db)
        return da < db ? -1 : 1;
    return strcmp(a + la, b + lb);
}

int esp01_serlist_push(esp01_serial_list *out, size_t *cap, const esp01_serial_port *p,
                       esp01_err *err)
{
    if (out->count == *cap) {
        size_t n = *cap ? *cap * 2 : 8;
        esp01_serial_port *q = realloc(out->ports, n * sizeof *q);
        if (!q)
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        out->ports = q;
        *cap = n;
    }
    out->ports[out->count++] = *p;
    return 0;
}

int esp01_serlist_finish(esp01_serial_list *out, int rc)
{
    if (rc < 0) {
        esp01_serial_list_free(out);
        return rc;
    }
    if (out->count > 1)
        qsort(out->ports, out->count, sizeof *out->ports, natural);
    return (int)out->count;
}

void esp01_serial_list_free(esp01_serial_list *list)
{
    free(list->ports);
    list->ports = NULL;
    list->count = 0;
}
