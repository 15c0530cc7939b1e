/*
 * Packages for build and mip (mipcli.h): settings, fetch, cache, lock.
 */
#include "mipcli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/fileio.h"
#include "esp01/fwcache.h"
#include "esp01/image.h"
#include "esp01/mpy.h"
#include "os/os.h"

int mipcli_init(struct mipcli *m, const char *cmd, const char *index)
{
    memset(m, 0, sizeof *m);
    esp01_mip_defaults(&m->opt);
    const char *env = getenv("ESP01_MIP_INDEX");
    if (!index)
        index = env && *env ? env : ESP01_MIP_INDEX;
    size_t n = strlen(index);
    while (n > 1 && index[n - 1] == '/')
        n--;
    if (n >= sizeof m->index)
        return cli_usage_error(cmd, "the index URL is too long");
    memcpy(m->index, index, n);
    m->index[n] = '\0';
    esp01_err err = {0};
    char base[4096];
    if (esp01_fw_cache_dir(base, sizeof base, &err) < 0)
        return cli_lib_error(err.code, &err);
    snprintf(m->cache, sizeof m->cache, "%s/mip", base);
    m->http.ca_bundle = getenv("ESP01_CA_BUNDLE");
    const char *t = getenv("ESP01_HTTP_TIMEOUT");
    uint64_t secs;
    if (t && *t) {
        if (!cli_parse_u64(t, &secs) || secs == 0 || secs > 3600)
            return cli_error("ESP01_HTTP_TIMEOUT '%s' is not a number of seconds", t);
        m->http.connect_timeout_s = m->http.stall_s = (uint32_t)secs;
    }
    snprintf(m->mpy, sizeof m->mpy, "6");
    m->opt.index = m->index;
    m->opt.fetch = esp01_mip_fetch_default;
    m->opt.fetch_ctx = &m->http;
    m->opt.cache_get = esp01_mip_cache_dir_get;
    m->opt.cache_put = esp01_mip_cache_dir_put;
    m->opt.cache_ctx = m->cache;
    return 0;
}

void mipcli_done(struct mipcli *m)
{
    mipcli_free_list(m->frozen, m->frozen_count);
    m->frozen = NULL;
    m->frozen_count = 0;
}

void mipcli_mpy_for_firmware(struct mipcli *m, const uint8_t *fw, size_t len)
{
    if (m->mpy_given || !fw)
        return;
    esp01_image_info info;
    esp01_err err = {0};
    if (esp01_image_parse(fw, len, &info, NULL) != 0 || !info.has_version)
        return;
    int v = esp01_mpy_version_for_release(info.version_major, info.version_minor,
                                          info.version_patch, &err);
    if (v > 0 && v < 100)
        snprintf(m->mpy, sizeof m->mpy, "%d", v % 100);
    else
        snprintf(m->mpy, sizeof m->mpy, "py");
}

void mipcli_frozen_from(struct mipcli *m, const uint8_t *fw, size_t len)
{
    static char names[128][ESP01_FROZEN_NAME_MAX];
    size_t n = esp01_image_frozen_modules(fw, len, names, 128);
    mipcli_free_list(m->frozen, m->frozen_count);
    m->frozen = calloc(n ? n : 1, sizeof *m->frozen);
    m->frozen_count = 0;
    for (size_t i = 0; m->frozen && i < n; i++) {
        m->frozen[i] = malloc(strlen(names[i]) + 1);
        if (!m->frozen[i])
            break;
        strcpy(m->frozen[i], names[i]);
        m->frozen_count++;
    }
}

int mipcli_resolve(struct mipcli *m, const char *const *req, size_t n,
                   esp01_mip_result *out)
{
    esp01_err err = {0};
    /* The cache's folder and its parent (the resolver makes no folders). */
    char parent[sizeof m->cache];
    snprintf(parent, sizeof parent, "%s", m->cache);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (!esp01_os_is_dir(parent))
            esp01_os_mkdir(parent, &err);
    }
    if (!esp01_os_is_dir(m->cache))
        esp01_os_mkdir(m->cache, &err);
    m->opt.mpy = m->mpy;
    m->opt.frozen = (const char *const *)m->frozen;
    m->opt.frozen_count = m->frozen_count;
    int rc = esp01_mip_resolve(req, n, &m->opt, out, &err);
    /* No build of a package for this bytecode version (the resolver's
     * "no package" for a missing package json; a missing file is not
     * one): the sources load anywhere. */
    if (rc == ESP01_E_NOTFOUND && strncmp(err.msg, "no package '", 12) == 0 &&
        strcmp(m->mpy, "py") != 0 && !m->mpy_given) {
        esp01_err err2 = {0};
        m->opt.mpy = "py";
        esp01_mip_result r2;
        memset(&r2, 0, sizeof r2);
        if (esp01_mip_resolve(req, n, &m->opt, &r2, &err2) == 0) {
            cli_warn("the index has no .mpy v%s build of these packages: using sources",
                     m->mpy);
            snprintf(m->mpy, sizeof m->mpy, "py");
            *out = r2;
            return 0;
        }
        m->opt.mpy = m->mpy;
    }
    if (rc < 0) {
        cli_error("packages: %s", err.msg[0] ? err.msg : "cannot resolve");
        return EXIT_FAIL;
    }
    return 0;
}

bool mipcli_split(const char *list, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!list)
        return true;
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    char **v = calloc(cap, sizeof *v);
    if (!v)
        return false;
    const char *p = list;
    while (*p) {
        size_t k = strcspn(p, ",");
        if (k) {
            v[*n] = malloc(k + 1);
            if (!v[*n]) {
                mipcli_free_list(v, *n);
                return false;
            }
            memcpy(v[*n], p, k);
            v[*n][k] = '\0';
            (*n)++;
        }
        p += k + (p[k] == ',');
    }
    *out = v;
    return true;
}

void mipcli_free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}
