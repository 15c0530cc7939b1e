/* libFuzzer harness: package jsons (as the index or a URL serves them),
 * esp01.lock files and a project's package.json.  Every fetched json is
 * the input; every other file is one byte, so hashes mostly fail. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/hash.h"
#include "esp01/mip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in;
static size_t in_len;

static int fetch(void *ctx, const char *url, size_t max, uint8_t **body, size_t *len, esp01_err *err)
{
    (void)ctx;
    size_t n = strlen(url);
    bool json = n > 5 && strcmp(url + n - 5, ".json") == 0;
    const uint8_t *src = json ? in : (const uint8_t *)"x";
    size_t sl = json ? in_len : 1;
    if (sl > max)
        return esp01_fail(err, ESP01_E_LIMIT, "too large");
    *body = malloc(sl ? sl : 1);
    if (!*body)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    if (sl)
        memcpy(*body, src, sl);
    *len = sl;
    return 0;
}

/* Targets of a fresh resolution are under "lib/"; a lock's may be any
 * safe relative path (the lock is the project's own file). */
static void check_result(int rc, const esp01_mip_result *r, const esp01_err *err, bool lib)
{
    if (rc < 0) {
        if (err->msg[0] == '\0' || r->file_count || r->package_count || r->files || r->packages)
            __builtin_trap();
        return;
    }
    for (size_t i = 0; i < r->file_count; i++) {
        uint8_t sha[32];
        const char *t = r->files[i].target;
        esp01_sha256(r->files[i].data, r->files[i].len, sha);
        size_t n = strlen(t);
        if (memcmp(sha, r->files[i].sha256, 32) != 0 || (lib && strncmp(t, "lib/", 4) != 0) || t[0] == '/' || strncmp(t, "../", 3) == 0 ||
            strstr(t, "/../") || strstr(t, "/./") || strstr(t, "//") || strchr(t, '\\') ||
            (n >= 3 && strcmp(t + n - 3, "/..") == 0) || t[n - 1] == '/')
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in = data;
    in_len = size;
    esp01_mip_options o;
    esp01_mip_defaults(&o);
    o.index = "https://i.test/v2";
    o.mpy = "6";
    o.fetch = fetch;
    esp01_mip_result r, l;
    esp01_err err = {0};
    const char *reqs[] = {"pkg", "https://h.test/p"};
    int rc = esp01_mip_resolve(reqs, 2, &o, &r, &err);
    check_result(rc, &r, &err, true);
    if (rc == 0) {
        /* what was resolved locks, and the lock gives it back */
        char *text;
        size_t len;
        if (esp01_mip_lock_write(&r, &o, &text, &len, &err) == 0) {
            if (esp01_mip_lock_check((const uint8_t *)text, len, &err) != 0 ||
                esp01_mip_resolve_locked((const uint8_t *)text, len, &o, &l, &err) != 0 ||
                l.file_count != r.file_count)
                __builtin_trap();
            esp01_mip_result_free(&l);
            free(text);
        }
        esp01_mip_result_free(&r);
    }
    err.msg[0] = '\0';
    int lc = esp01_mip_lock_check(data, size, &err);
    if (lc < 0 && err.msg[0] == '\0')
        __builtin_trap();
    err.msg[0] = '\0';
    rc = esp01_mip_resolve_locked(data, size, &o, &l, &err);
    if ((rc == 0) != (lc == 0) && rc != ESP01_E_CHECKSUM && rc != ESP01_E_LIMIT)
        __builtin_trap();
    check_result(rc, &l, &err, false);
    esp01_mip_result_free(&l);
    char **q;
    size_t n;
    rc = esp01_mip_project_requests(data, size, &q, &n, &err);
    if (rc < 0 && (q || n))
        __builtin_trap();
    esp01_mip_requests_free(q, n);
    return 0;
}
