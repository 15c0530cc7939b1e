/*
 * esp01 firmware list|get|path: MicroPython's official ESP8266 builds,
 * from micropython.org into a local cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/firmware.h"
#include "esp01/fwcache.h"
#include "fwcli.h"

static const char usage[] =
    "usage: esp01 firmware list [--variant V] [--all] [--json]\n"
    "       esp01 firmware get [VERSION|latest] [--variant V]\n"
    "       esp01 firmware path [VERSION|latest] [--variant V]\n"
    "\n"
    "MicroPython's official ESP8266 firmware, from the board page on\n"
    "micropython.org (" ESP01_FW_PAGE_PATH ").\n"
    "\n"
    "  list   the releases published (newest first) and which are cached;\n"
    "         offline, the cached files\n"
    "  get    download one into the cache, unless it is there, and print\n"
    "         its path; a file counts only if it is complete and passes the\n"
    "         checks 'esp01 info' makes (image checksum, MD5 trailer) and its\n"
    "         banner names the version and build asked for\n"
    "  path   print the path of a cached file; never downloads\n"
    "\n"
    "  VERSION          1.24.1, v1.24.1, 1.10, or a preview's full tag\n"
    "                   (default: latest, the newest release)\n"
    "  --variant V      1M (default for get/path: ESP-01 and ESP-01S),\n"
    "                   512K (no filesystem), generic (2 MiB and up),\n"
    "                   2M-ROMFS, OTA\n"
    "  --all            list: preview and development builds too\n"
    "  --json           list: the same as JSON\n"
    "\n"
    "Environment: ESP01_FIRMWARE_URL (default " ESP01_FW_DEFAULT_BASE "),\n"
    "ESP01_CACHE_DIR (default $XDG_CACHE_HOME/esp01/firmware, else\n"
    "~/.cache/esp01/firmware; on Windows %LOCALAPPDATA%\\esp01\\firmware),\n"
    "ESP01_HTTP_TIMEOUT (seconds without data before giving up, default 30),\n"
    "ESP01_CA_BUNDLE (a PEM file of CAs to trust instead of the system's), and\n"
    "the usual http_proxy, https_proxy, no_proxy.\n";

struct fw_args {
    const char *sub, *version;
    int variant;
    bool all, json;
};

static int parse(int argc, char **argv, struct fw_args *a)
{
    memset(a, 0, sizeof *a);
    a->variant = -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            fputs(usage, stdout);
            return -1;
        }
        if (!strcmp(s, "--variant")) {
            if (i + 1 >= argc)
                return cli_usage_error("firmware", "--variant needs a value");
            if ((a->variant = esp01_fw_variant_parse(argv[++i])) < 0)
                return cli_usage_error("firmware", "--variant '%s' is not 1M, 512K, generic, "
                                       "2M-ROMFS or OTA", argv[i]);
        } else if (!strcmp(s, "--all")) {
            a->all = true;
        } else if (!strcmp(s, "--json")) {
            a->json = true;
        } else if (s[0] == '-' && s[1]) {
            return cli_usage_error("firmware", "unknown option '%s'", s);
        } else if (!a->sub) {
            a->sub = s;
        } else if (!a->version) {
            a->version = s;
        } else {
            return cli_usage_error("firmware", "unexpected argument '%s'", s);
        }
    }
    if (!a->sub)
        return cli_usage_error("firmware", "list, get or path?");
    if (strcmp(a->sub, "list") && strcmp(a->sub, "get") && strcmp(a->sub, "path"))
        return cli_usage_error("firmware", "'%s' is not list, get or path", a->sub);
    if (!strcmp(a->sub, "list") && a->version)
        return cli_usage_error("firmware", "list takes no version (use --variant, --all)");
    if (strcmp(a->sub, "list") && (a->all || a->json))
        return cli_usage_error("firmware", "--all and --json go with list");
    return 0;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static const char *kind_name(esp01_fw_kind k)
{
    return k == ESP01_FW_PREVIEW ? "preview" : k == ESP01_FW_DEV ? "dev" : "release";
}

static bool in_list(const esp01_fw_list *l, const char *name, uint64_t *size)
{
    for (size_t i = 0; i < l->count; i++)
        if (!strcmp(l->files[i].name, name)) {
            *size = l->files[i].size;
            return true;
        }
    return false;
}

static bool shown_in_list(const esp01_fw_file *f, const struct fw_args *a)
{
    return (a->variant < 0 || (int)f->variant == a->variant) &&
           (a->all || f->version.kind == ESP01_FW_RELEASE);
}

static int list(struct fwcli *c, const struct fw_args *a)
{
    esp01_err err = {0};
    esp01_fw_list cached = {0}, all = {0};
    int code = EXIT_FAIL;
    if (esp01_fw_cache_list(c->cache, &cached, &err) < 0) {
        cli_lib_error(err.code, &err);
        goto out;
    }
    int rc = esp01_fw_fetch_list(c->base, &c->http, &all, &err);
    if (rc == ESP01_E_IO) {
        fprintf(stderr, "offline (%s): the cached files only\n", err.msg);
    } else if (rc < 0) {
        code = rc == ESP01_E_INTERRUPTED ? 130 : cli_error("%s", err.msg);
        goto out;
    }
    /* Cached files the page no longer lists (old previews) stay listed. */
    for (size_t i = 0; i < cached.count; i++)
        if (esp01_fw_list_add(&all, &cached.files[i], &err) < 0) {
            cli_lib_error(err.code, &err);
            goto out;
        }
    esp01_fw_list_sort(&all);
    int width = 8; /* the version column: as wide as the longest shown */
    for (size_t i = 0; i < all.count; i++)
        if (shown_in_list(&all.files[i], a) && (int)strlen(all.files[i].version.tag) > width)
            width = (int)strlen(all.files[i].version.tag);
    if (a->json)
        printf("[");
    else
        printf("%-*s  %-10s  %-8s  %8s  %s\n", width, "version", "date", "variant", "bytes",
               "cached");
    size_t shown = 0;
    for (size_t i = 0; i < all.count; i++) {
        const esp01_fw_file *f = &all.files[i];
        if (!shown_in_list(f, a))
            continue;
        uint64_t size = 0;
        bool here = in_list(&cached, f->name, &size);
        char path[4200];
        esp01_fw_cache_path(c->cache, f->name, path, sizeof path);
        if (a->json) {
            printf("%s\n  {\"version\": ", shown ? "," : "");
            json_str(f->version.tag);
            printf(", \"kind\": \"%s\", \"date\": \"%s\", \"variant\": ", kind_name(f->version.kind),
                   f->date);
            json_str(esp01_fw_variant_name(f->variant));
            printf(", \"board\": ");
            json_str(esp01_fw_variant_board(f->variant));
            printf(", \"file\": ");
            json_str(f->name);
            printf(", \"url\": \"%s%s%s\"", c->base, ESP01_FW_FILES_PATH, f->name);
            if (here) {
                printf(", \"size\": %llu, \"cached\": true, \"path\": ",
                       (unsigned long long)size);
                json_str(path);
            } else {
                printf(", \"size\": null, \"cached\": false, \"path\": null");
            }
            printf("}");
        } else {
            char sz[24] = "-";
            if (here)
                snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
            printf("%-*s  %-10s  %-8s  %8s  %s\n", width, f->version.tag, f->date,
                   esp01_fw_variant_name(f->variant), sz, here ? "yes" : "no");
        }
        shown++;
    }
    if (a->json)
        printf("%s]\n", shown ? "\n" : "");
    else if (!shown)
        fprintf(stderr, "no %sfirmware%s%s\n", a->all ? "" : "released ",
                a->variant >= 0 ? " of the variant " : "",
                a->variant >= 0 ? esp01_fw_variant_name((esp01_fw_variant)a->variant) : "");
    code = EXIT_OK;
out:
    esp01_fw_list_free(&cached);
    esp01_fw_list_free(&all);
    return code;
}

static int path_only(struct fwcli *c, const struct fw_args *a, esp01_fw_variant v)
{
    const char *spec = a->version ? a->version : "latest";
    esp01_fw_version want;
    bool latest = !strcmp(spec, "latest");
    if (!latest && esp01_fw_version_parse(spec, strlen(spec), &want) < 0)
        return cli_usage_error("firmware", "'%s' is neither 'latest' nor a version", spec);
    esp01_err err = {0};
    esp01_fw_list cached = {0};
    if (esp01_fw_cache_list(c->cache, &cached, &err) < 0)
        return cli_lib_error(err.code, &err);
    const esp01_fw_file *f = esp01_fw_list_pick(&cached, v, latest ? NULL : &want);
    char path[4200];
    int code;
    if (!f)
        code = cli_error("no %s %s in the cache (%s): 'esp01 firmware get %s --variant %s' "
                         "downloads it", esp01_fw_variant_name(v),
                         latest ? "release" : want.tag, c->cache, spec,
                         esp01_fw_variant_name(v));
    else if (esp01_fw_load_cached(c->cache, f, path, sizeof path, &err) < 0)
        code = cli_error("%s", err.msg);
    else {
        printf("%s\n", path);
        code = EXIT_OK;
    }
    esp01_fw_list_free(&cached);
    return code;
}

int cmd_firmware(int argc, char **argv)
{
    struct fw_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    struct fwcli c;
    if ((rc = fwcli_init(&c)) != EXIT_OK)
        return rc;
    if (!strcmp(a.sub, "list"))
        return list(&c, &a);
    esp01_fw_variant v = a.variant >= 0 ? (esp01_fw_variant)a.variant : ESP01_FW_1M;
    if (!strcmp(a.sub, "path"))
        return path_only(&c, &a, v);
    char path[4200];
    esp01_fw_file chosen;
    rc = fwcli_resolve(&c, a.version ? a.version : "latest", v, path, sizeof path, &chosen);
    if (rc == EXIT_OK)
        printf("%s\n", path);
    return rc;
}
