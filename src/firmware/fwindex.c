/*
 * fwindex.c - firmware file names of micropython.org and the links of its
 * ESP8266 board page (the schemes are described in fwindex.h).
 */
#include "esp01/fwindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name, *board, *suffix, *old_suffix;
    esp01_variant image;
} variants[ESP01_FW_VARIANT_COUNT] = {
    [ESP01_FW_GENERIC] = {"generic", "ESP8266_GENERIC", "", "", ESP01_VARIANT_GENERIC},
    [ESP01_FW_1M] = {"1M", "ESP8266_GENERIC-FLASH_1M", "FLASH_1M", "1m", ESP01_VARIANT_1M},
    [ESP01_FW_512K] = {"512K", "ESP8266_GENERIC-FLASH_512K", "FLASH_512K", "512k",
                       ESP01_VARIANT_512K},
    [ESP01_FW_2M_ROMFS] = {"2M-ROMFS", "ESP8266_GENERIC-FLASH_2M_ROMFS", "FLASH_2M_ROMFS",
                           NULL, ESP01_VARIANT_2M_ROMFS},
    [ESP01_FW_OTA] = {"OTA", "ESP8266_GENERIC-OTA", "OTA", "ota", ESP01_VARIANT_GENERIC},
};

const char *esp01_fw_variant_name(esp01_fw_variant v)
{
    return (unsigned)v < ESP01_FW_VARIANT_COUNT ? variants[v].name : "unknown";
}

const char *esp01_fw_variant_board(esp01_fw_variant v)
{
    return (unsigned)v < ESP01_FW_VARIANT_COUNT ? variants[v].board : "unknown";
}

int esp01_fw_variant_parse(const char *s)
{
    if (!s)
        return ESP01_E_INVAL;
    for (int i = 0; i < ESP01_FW_VARIANT_COUNT; i++)
        if (strcasecmp(s, variants[i].name) == 0 || strcasecmp(s, variants[i].board) == 0 ||
            (variants[i].suffix[0] && strcasecmp(s, variants[i].suffix) == 0))
            return i;
    if (!strcasecmp(s, "2M") || !strcasecmp(s, "2M+") || !strcasecmp(s, "4M"))
        return ESP01_FW_GENERIC;
    if (!strcasecmp(s, "romfs") || !strcasecmp(s, "2M_ROMFS"))
        return ESP01_FW_2M_ROMFS;
    return ESP01_E_INVAL;
}

esp01_variant esp01_fw_variant_image(esp01_fw_variant v)
{
    return (unsigned)v < ESP01_FW_VARIANT_COUNT ? variants[v].image : ESP01_VARIANT_UNKNOWN;
}

int esp01_fw_variant_for_chip(uint32_t chip_size)
{
    if (chip_size >= (2u << 20))
        return ESP01_FW_GENERIC;
    if (chip_size >= (1u << 20))
        return ESP01_FW_1M;
    return ESP01_E_UNSUPPORTED;
}

/* ---- versions --------------------------------------------------------- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A decimal number of at most `max_digits` at s[*i]; false if none. */
static bool number(const char *s, size_t len, size_t *i, unsigned max_digits, uint32_t *out)
{
    size_t start = *i;
    uint32_t v = 0;
    while (*i < len && is_digit(s[*i]) && *i - start < max_digits)
        v = v * 10 + (uint32_t)(s[(*i)++] - '0');
    if (*i == start || (*i < len && is_digit(s[*i])))
        return false;
    *out = v;
    return true;
}

static bool literal(const char *s, size_t len, size_t *i, const char *lit)
{
    size_t n = strlen(lit);
    if (len - *i < n || memcmp(s + *i, lit, n) != 0)
        return false;
    *i += n;
    return true;
}

/* "g" and a commit hash of 7 to 40 hex digits. */
static bool hash(const char *s, size_t len, size_t *i)
{
    if (*i >= len || s[*i] != 'g')
        return false;
    size_t start = ++*i;
    while (*i < len && is_hex(s[*i]) && *i - start < 40)
        ++*i;
    return *i - start >= 7 && (*i >= len || !is_hex(s[*i]));
}

/* The tag at s[*i]; advances past it.  `v` is optional in user input. */
static bool tag(const char *s, size_t len, size_t *i, bool need_v, esp01_fw_version *out)
{
    size_t start = *i;
    memset(out, 0, sizeof *out);
    if (*i < len && s[*i] == 'v')
        ++*i;
    else if (need_v)
        return false;
    uint32_t major, minor, patch = 0;
    if (!number(s, len, i, 3, &major) || !literal(s, len, i, ".") ||
        !number(s, len, i, 3, &minor))
        return false;
    size_t save = *i;
    if (literal(s, len, i, ".") && !number(s, len, i, 3, &patch))
        *i = save;
    save = *i;
    uint32_t n;
    if (literal(s, len, i, "-preview.") && number(s, len, i, 6, &n) &&
        literal(s, len, i, ".") && hash(s, len, i)) {
        out->kind = ESP01_FW_PREVIEW;
        out->build = n;
    } else if ((*i = save, literal(s, len, i, "-")) && number(s, len, i, 6, &n) &&
               literal(s, len, i, "-") && hash(s, len, i)) {
        out->kind = ESP01_FW_DEV;
        out->build = n;
    } else {
        *i = save;
    }
    if (major > 255 || minor > 999 || patch > 999)
        return false;
    out->major = (uint16_t)major;
    out->minor = (uint16_t)minor;
    out->patch = (uint16_t)patch;
    size_t n_tag = *i - start;
    if (n_tag + 2 > sizeof out->tag)
        return false;
    size_t o = 0;
    if (s[start] != 'v')
        out->tag[o++] = 'v';
    memcpy(out->tag + o, s + start, n_tag);
    out->tag[o + n_tag] = '\0';
    return true;
}

int esp01_fw_version_parse(const char *s, size_t len, esp01_fw_version *out)
{
    size_t i = 0;
    if (!s || !tag(s, len, &i, false, out) || i != len)
        return ESP01_E_FORMAT;
    return 0;
}

static int cmp_u(uint32_t a, uint32_t b) { return a < b ? -1 : a > b; }

/* Where a build sits around its release: a preview before, a dev build
 * after. */
static int kind_rank(esp01_fw_kind k)
{
    return k == ESP01_FW_PREVIEW ? -1 : k == ESP01_FW_DEV ? 1 : 0;
}

int esp01_fw_version_cmp(const esp01_fw_version *a, const esp01_fw_version *b)
{
    int c = cmp_u(a->major, b->major);
    if (!c)
        c = cmp_u(a->minor, b->minor);
    if (!c)
        c = cmp_u(a->patch, b->patch);
    if (!c)
        c = kind_rank(a->kind) - kind_rank(b->kind);
    if (!c)
        c = cmp_u(a->build, b->build);
    return c;
}

bool esp01_fw_version_matches(const esp01_fw_version *want, const esp01_fw_version *have)
{
    if (want->kind != ESP01_FW_RELEASE)
        return strcmp(want->tag, have->tag) == 0;
    return have->kind == ESP01_FW_RELEASE && want->major == have->major &&
           want->minor == have->minor && want->patch == have->patch;
}

/* ---- file names ------------------------------------------------------- */

/* YYYYMMDD with a plausible date; writes "YYYY-MM-DD". */
static bool date8(const char *s, size_t len, size_t *i, char out[11])
{
    if (len - *i < 8)
        return false;
    for (int k = 0; k < 8; k++)
        if (!is_digit(s[*i + (size_t)k]))
            return false;
    const char *d = s + *i;
    int year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    int month = (d[4] - '0') * 10 + (d[5] - '0');
    int day = (d[6] - '0') * 10 + (d[7] - '0');
    if (year < 2014 || year > 2099 || month < 1 || month > 12 || day < 1 || day > 31)
        return false;
    snprintf(out, 11, "%04d-%02d-%02d", year, month, day);
    *i += 8;
    return true;
}

int esp01_fw_name_parse(const char *name, size_t len, esp01_fw_file *out)
{
    memset(out, 0, sizeof *out);
    if (!name || len < 5 || len >= sizeof out->name || memcmp(name + len - 4, ".bin", 4) != 0)
        return ESP01_E_FORMAT;
    size_t n = len - 4, i = 0;
    int variant = ESP01_FW_GENERIC;
    if (literal(name, n, &i, "ESP8266_GENERIC-")) {
        for (int k = 1; k < ESP01_FW_VARIANT_COUNT; k++) {
            size_t save = i;
            if (literal(name, n, &i, variants[k].suffix) && literal(name, n, &i, "-")) {
                variant = k;
                break;
            }
            i = save;
        }
    } else if (literal(name, n, &i, "esp8266-")) {
        out->old_name = true;
        for (int k = 1; k < ESP01_FW_VARIANT_COUNT; k++) {
            size_t save = i;
            if (variants[k].old_suffix && literal(name, n, &i, variants[k].old_suffix) &&
                literal(name, n, &i, "-")) {
                variant = k;
                break;
            }
            i = save;
        }
    } else {
        return ESP01_E_FORMAT;
    }
    if (!date8(name, n, &i, out->date) || !literal(name, n, &i, "-"))
        return ESP01_E_FORMAT;
    if (out->old_name)
        (void)literal(name, n, &i, "unstable-");
    if (!tag(name, n, &i, true, &out->version) || i != n)
        return ESP01_E_FORMAT;
    out->variant = (esp01_fw_variant)variant;
    memcpy(out->name, name, len);
    out->name[len] = '\0';
    return 0;
}

/* ---- the list ----------------------------------------------------------- */

int esp01_fw_list_add(esp01_fw_list *list, const esp01_fw_file *f, esp01_err *err)
{
    for (size_t k = 0; k < list->count; k++) {
        esp01_fw_file *have = &list->files[k];
        if (have->variant != f->variant || strcmp(have->version.tag, f->version.tag) != 0)
            continue;
        /* The same build under both schemes: keep the name the board page
         * uses today. */
        if (have->old_name && !f->old_name) {
            uint64_t size = have->size;
            *have = *f;
            if (!have->size)
                have->size = size;
        } else if (!have->size) {
            have->size = f->size;
        }
        return 0;
    }
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 32;
        esp01_fw_file *p = realloc(list->files, cap * sizeof *p);
        if (!p)
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        list->files = p;
        list->cap = cap;
    }
    list->files[list->count++] = *f;
    return 1;
}

static bool ieq(const uint8_t *p, const char *lit, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint8_t c = p[k];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        if (c != (uint8_t)lit[k])
            return false;
    }
    return true;
}

static bool html_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* The firmware file name an href value links to, or 0 if none. */
static size_t link_name(const uint8_t *v, size_t n, const uint8_t **name)
{
    static const char dir[] = ESP01_FW_FILES_PATH;
    size_t dl = sizeof dir - 1;
    /* The last occurrence: "https://host/resources/firmware/NAME" and
     * "/resources/firmware/NAME" alike; anything after NAME (a query, a
     * fragment, a deeper path) disqualifies the link. */
    size_t at = n + 1;
    for (size_t k = 0; k + dl <= n; k++)
        if (memcmp(v + k, dir, dl) == 0)
            at = k;
    if (at > n)
        return 0;
    /* Only a path, or an absolute http(s) URL ending in it. */
    if (at != 0 && !(n > 7 && (ieq(v, "http://", 7) || ieq(v, "https://", 8))))
        return 0;
    *name = v + at + dl;
    return n - at - dl;
}

int esp01_fw_page_parse(const uint8_t *buf, size_t len, esp01_fw_list *list, esp01_err *err)
{
    int added = 0;
    unsigned links = 0;
    for (size_t i = 0; i + 4 < len && links < ESP01_FW_PAGE_MAX_LINKS; i++) {
        if (!ieq(buf + i, "href", 4) || (i > 0 && !html_space(buf[i - 1])))
            continue;
        size_t p = i + 4;
        while (p < len && html_space(buf[p]))
            p++;
        if (p >= len || buf[p] != '=')
            continue;
        p++;
        while (p < len && html_space(buf[p]))
            p++;
        if (p >= len)
            break;
        uint8_t quote = buf[p] == '"' || buf[p] == '\'' ? buf[p++] : 0;
        size_t start = p;
        while (p < len && p - start < 1024 &&
               (quote ? buf[p] != quote : !html_space(buf[p]) && buf[p] != '>'))
            p++;
        if (p >= len || p - start >= 1024)
            continue;
        i = p;
        links++;
        const uint8_t *name;
        size_t nl = link_name(buf + start, p - start, &name);
        esp01_fw_file f;
        if (!nl || esp01_fw_name_parse((const char *)name, nl, &f) < 0)
            continue;
        int rc = esp01_fw_list_add(list, &f, err);
        if (rc < 0)
            return rc;
        added += rc;
    }
    return added;
}

static int newest_first(const void *pa, const void *pb)
{
    const esp01_fw_file *a = pa, *b = pb;
    int c = esp01_fw_version_cmp(&b->version, &a->version);
    if (!c)
        c = (int)a->variant - (int)b->variant;
    if (!c)
        c = strcmp(b->date, a->date);
    return c;
}

void esp01_fw_list_sort(esp01_fw_list *list)
{
    if (list->count > 1)
        qsort(list->files, list->count, sizeof *list->files, newest_first);
}

const esp01_fw_file *esp01_fw_list_pick(const esp01_fw_list *list, esp01_fw_variant variant,
                                        const esp01_fw_version *want)
{
    const esp01_fw_file *best = NULL;
    for (size_t k = 0; k < list->count; k++) {
        const esp01_fw_file *f = &list->files[k];
        if (f->variant != variant)
            continue;
        if (want ? !esp01_fw_version_matches(want, &f->version)
                 : f->version.kind != ESP01_FW_RELEASE)
            continue;
        if (!best || esp01_fw_version_cmp(&f->version, &best->version) > 0 ||
            (esp01_fw_version_cmp(&f->version, &best->version) == 0 &&
             strcmp(f->date, best->date) > 0))
            best = f;
    }
    return best;
}

void esp01_fw_list_free(esp01_fw_list *list)
{
    free(list->files);
    list->files = NULL;
    list->count = list->cap = 0;
}
