/*
 * Official firmware for the tool: the environment, the cache, progress
 * and the meaning of `--firmware latest|VERSION`.
 */
#include "fwcli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/firmware.h"
#include "esp01/fwcache.h"
#include "os/os.h"

static volatile sig_atomic_t fw_cancel;

int fwcli_init(struct fwcli *c)
{
    memset(c, 0, sizeof *c);
    const char *base = getenv("ESP01_FIRMWARE_URL");
    c->base = base && *base ? base : ESP01_FW_DEFAULT_BASE;
    if (strncmp(c->base, "http://", 7) != 0 && strncmp(c->base, "https://", 8) != 0)
        return cli_error("ESP01_FIRMWARE_URL '%s' is not an http:// or https:// URL", c->base);
    esp01_err err = {0};
    if (esp01_fw_cache_dir(c->cache, sizeof c->cache, &err) < 0)
        return cli_lib_error(err.code, &err);
    /* For a private CA (a proxy that inspects TLS, the tests' server). */
    c->http.ca_bundle = getenv("ESP01_CA_BUNDLE");
    const char *t = getenv("ESP01_HTTP_TIMEOUT");
    uint64_t secs;
    if (t && *t) {
        if (!cli_parse_u64(t, &secs) || secs == 0 || secs > 3600)
            return cli_error("ESP01_HTTP_TIMEOUT '%s' is not a number of seconds", t);
        c->http.connect_timeout_s = c->http.stall_s = (uint32_t)secs;
    }
    c->http.cancel = &fw_cancel;
    c->old_cancel = esp01_os_catch_interrupt(&fw_cancel);
    return EXIT_OK;
}

void fwcli_done(struct fwcli *c)
{
    esp01_os_catch_interrupt(c->old_cancel);
}

bool fwcli_latest_tag(struct fwcli *c, char *tag, size_t cap)
{
    esp01_fw_list l = {0};
    esp01_err err = {0};
    bool ok = false;
    if (esp01_fw_fetch_list(c->base, &c->http, &l, &err) >= 0) {
        esp01_fw_list_sort(&l);
        for (size_t i = 0; i < l.count && !ok; i++)
            if (l.files[i].version.kind == ESP01_FW_RELEASE) {
                snprintf(tag, cap, "%s", l.files[i].version.tag);
                ok = true;
            }
    }
    esp01_fw_list_free(&l);
    return ok;
}

bool fwcli_is_release(const char *spec)
{
    esp01_os_info st;
    if (!spec || esp01_os_stat(spec, true, &st, NULL) == 0)
        return false;
    esp01_fw_version v;
    return strcmp(spec, "latest") == 0 || esp01_fw_version_parse(spec, strlen(spec), &v) == 0;
}

struct bar {
    const char *name;
    bool drawn;
    uint64_t last_ms;
};

static void draw(void *ctx, uint64_t done, uint64_t total)
{
    struct bar *b = ctx;
    uint64_t now = esp01_now_ms();
    if (now - b->last_ms < 100 && done != total)
        return;
    b->last_ms = now;
    char bar[25];
    int fill = total ? (int)(done * 24 / total) : 0;
    for (int i = 0; i < 24; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[24] = '\0';
    if (total)
        fprintf(stderr, "\rDownloading [%s] %7.1f/%.1f KiB ", bar, done / 1024.0,
                total / 1024.0);
    else
        fprintf(stderr, "\rDownloading %7.1f KiB ", done / 1024.0);
    b->drawn = true;
}

/* Download (or find) `f` in the cache, with a progress bar on a terminal. */
static int fetch(struct fwcli *c, const esp01_fw_file *f, char *path, size_t cap)
{
    struct bar b = {f->name, false, 0};
    esp01_http_opts o = c->http;
    if (cli_stderr_is_tty()) {
        o.progress = draw;
        o.ctx = &b;
    }
    bool downloaded = false;
    esp01_err err = {0};
    int rc = esp01_fw_fetch(c->base, &o, f, c->cache, path, cap, &downloaded, &err);
    if (b.drawn)
        fputs("\r\033[K", stderr);
    if (rc == ESP01_E_INTERRUPTED)
        return 130;
    if (rc < 0)
        return cli_error("%s", err.msg);
    if (downloaded)
        fprintf(stderr, "Firmware:  downloaded %s: checked (image checksum, MD5 trailer, "
                "banner %s, %s build)\n", f->name, f->version.tag,
                esp01_fw_variant_name(f->variant));
    else
        fprintf(stderr, "Firmware:  %s (%s build) from the cache\n", f->version.tag,
                esp01_fw_variant_name(f->variant));
    return EXIT_OK;
}

int fwcli_resolve(struct fwcli *c, const char *spec, esp01_fw_variant variant, char *path,
                  size_t cap, esp01_fw_file *chosen)
{
    bool latest = strcmp(spec, "latest") == 0;
    esp01_fw_version want;
    if (!latest && esp01_fw_version_parse(spec, strlen(spec), &want) < 0)
        return cli_error("'%s' is neither 'latest' nor a MicroPython version (e.g. 1.24.1)",
                         spec);
    const char *vname = esp01_fw_variant_name(variant);
    esp01_err err = {0};
    esp01_fw_list cached = {0}, online = {0};
    int code = EXIT_FAIL;
    if (esp01_fw_cache_list(c->cache, &cached, &err) < 0) {
        cli_lib_error(err.code, &err);
        goto out;
    }
    const esp01_fw_file *f = NULL;
    /* A version already here needs no network at all. */
    if (!latest && (f = esp01_fw_list_pick(&cached, variant, &want)) != NULL) {
        esp01_err cerr;
        if (esp01_fw_load_cached(c->cache, f, path, cap, &cerr) == 0) {
            fprintf(stderr, "Firmware:  %s (%s build) from the cache\n", f->version.tag,
                    vname);
            *chosen = *f;
            code = EXIT_OK;
            goto out;
        }
    }
    int rc = esp01_fw_fetch_list(c->base, &c->http, &online, &err);
    if (rc == ESP01_E_IO && latest) {
        f = esp01_fw_list_pick(&cached, variant, NULL);
        esp01_err cerr;
        if (!f || esp01_fw_load_cached(c->cache, f, path, cap, &cerr) < 0) {
            cli_error("offline (%s), and no %s release in the cache (%s)", err.msg, vname,
                      c->cache);
            goto out;
        }
        fprintf(stderr, "Firmware:  offline (%s): using the newest cached release, %s (%s "
                "build)\n", err.msg, f->version.tag, vname);
        *chosen = *f;
        code = EXIT_OK;
        goto out;
    }
    if (rc == ESP01_E_IO) {
        cli_error("%s %s is not in the cache, and %s", vname, want.tag, err.msg);
        goto out;
    }
    if (rc < 0) {
        code = rc == ESP01_E_INTERRUPTED ? 130 : cli_error("%s", err.msg);
        goto out;
    }
    f = esp01_fw_list_pick(&online, variant, latest ? NULL : &want);
    if (!f) {
        const esp01_fw_file *newest = esp01_fw_list_pick(&online, variant, NULL);
        if (latest || !newest)
            cli_error("%s%s lists no %s release", c->base, ESP01_FW_PAGE_PATH, vname);
        else
            cli_error("%s%s has no %s build of %s (the newest release is %s)", c->base,
                      ESP01_FW_PAGE_PATH, vname, want.tag, newest->version.tag);
        goto out;
    }
    *chosen = *f;
    code = fetch(c, f, path, cap);
out:
    esp01_fw_list_free(&cached);
    esp01_fw_list_free(&online);
    return code;
}

int fwcli_for_project(const char *cmd, const char *spec, uint32_t chip_size, int forced,
                      char *path, size_t cap)
{
    int v = forced >= 0 ? forced : esp01_fw_variant_for_chip(chip_size);
    if (v < 0)
        return cli_error("%s: this board has %u KiB of flash: MicroPython's build for it "
                         "(512K) has no filesystem, so a project cannot live on it. A board "
                         "with 1 MiB or more (ESP-01S, most black ESP-01) would; this one can "
                         "take the firmware alone (esp01 firmware get --variant 512K, then "
                         "esp01 flash FILE) and run code over the REPL (esp01 run)",
                         cmd, chip_size / 1024);
    struct fwcli c;
    int rc = fwcli_init(&c);
    if (rc != EXIT_OK)
        return rc;
    esp01_fw_file chosen;
    rc = fwcli_resolve(&c, spec, (esp01_fw_variant)v, path, cap, &chosen);
    fwcli_done(&c);
    return rc;
}
