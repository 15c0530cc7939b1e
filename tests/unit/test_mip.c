/*
 * test_mip.c - the package resolver against the stand-in index of
 * $SHARED/fixtures/mip (read from the disk through an in-memory fetch
 * that also serves hand-made package jsons), the lock, the cache folder.
 */
#include "check.h"

#include "esp01/fileio.h"
#include "esp01/hash.h"
#include "esp01/mip.h"

#include <stdbool.h>
#include <stdint.h>

#define IDX "https://idx.test/v2"

struct ent {
    char url[512];
    uint8_t *data;
    size_t len;
};

static struct mem {
    struct ent e[200];
    size_t n;
    int calls, index_calls;
} mem;

static void mem_reset(void)
{
    for (size_t i = 0; i < mem.n; i++)
        free(mem.e[i].data);
    memset(&mem, 0, sizeof mem);
}

static void mem_put(const char *url, const void *data, size_t len)
{
    struct ent *e = &mem.e[mem.n++];
    snprintf(e->url, sizeof e->url, "%s", url);
    e->data = malloc(len ? len : 1);
    memcpy(e->data, data, len);
    e->len = len;
}

static void mem_str(const char *url, const char *s) { mem_put(url, s, strlen(s)); }

static int mem_fetch(void *ctx, const char *url, size_t max, uint8_t **body, size_t *len,
                     esp01_err *err)
{
    (void)ctx;
    mem.calls++;
    if (strstr(url, "/index.json"))
        mem.index_calls++;
    for (size_t i = mem.n; i-- > 0;)
        if (strcmp(mem.e[i].url, url) == 0) {
            if (mem.e[i].len > max)
                return esp01_fail(err, ESP01_E_LIMIT, "too big");
            *body = malloc(mem.e[i].len ? mem.e[i].len : 1);
            memcpy(*body, mem.e[i].data, mem.e[i].len);
            *len = mem.e[i].len;
            return 0;
        }
    if (strncmp(url, IDX "/", strlen(IDX) + 1) == 0) {
        char path[1024];
        snprintf(path, sizeof path, "%s/fixtures/mip/v2/%s", check_shared(), url + strlen(IDX) + 1);
        return esp01_read_file(path, max, body, len, err);
    }
    return esp01_fail(err, ESP01_E_NOTFOUND, "%s: not found", url);
}

/* A cache in memory. */
static struct {
    uint8_t sha[64][32];
    uint8_t *data[64];
    size_t len[64], n;
} cache;

static int cget(void *ctx, const uint8_t sha[32], uint8_t **body, size_t *len, esp01_err *err)
{
    (void)ctx;
    for (size_t i = 0; i < cache.n; i++)
        if (memcmp(cache.sha[i], sha, 32) == 0) {
            *body = malloc(cache.len[i] + 1);
            memcpy(*body, cache.data[i], cache.len[i]);
            *len = cache.len[i];
            return 0;
        }
    return esp01_fail(err, ESP01_E_NOTFOUND, "not cached");
}

static int cput(void *ctx, const uint8_t sha[32], const uint8_t *body, size_t len, esp01_err *err)
{
    (void)ctx;
    (void)err;
    if (cache.n < 64) {
        memcpy(cache.sha[cache.n], sha, 32);
        cache.data[cache.n] = malloc(len + 1);
        memcpy(cache.data[cache.n], body, len);
        cache.len[cache.n++] = len;
    }
    return 0;
}

static void cache_reset(void)
{
    for (size_t i = 0; i < cache.n; i++)
        free(cache.data[i]);
    memset(&cache, 0, sizeof cache);
}

static esp01_mip_options opts(void)
{
    esp01_mip_options o;
    esp01_mip_defaults(&o);
    o.index = IDX;
    o.mpy = "6";
    o.fetch = mem_fetch;
    return o;
}

static int resolve1(const char *req, const esp01_mip_options *o, esp01_mip_result *r, esp01_err *e)
{
    const char *reqs[1] = {req};
    return esp01_mip_resolve(reqs, 1, o, r, e);
}

static bool hex_starts(const uint8_t sha[32], const char *prefix)
{
    char hex[65];
    esp01_hex(sha, 32, hex);
    return strncmp(hex, prefix, strlen(prefix)) == 0;
}

TEST(index_name_gives_files_targets_hashes)
{
    mem_reset();
    esp01_mip_options o = opts();
    esp01_mip_result r;
    esp01_err e;
    CHECK_EQ(resolve1("umqtt.simple", &o, &r, &e), 0);
    CHECK_EQ(r.package_count, 1);
    CHECK_EQ(r.file_count, 2);
    if (r.file_count == 2) {
        CHECK_STR(r.packages[0].name, "umqtt.simple");
        CHECK_STR(r.packages[0].version, "1.8.0");
        CHECK_STR(r.packages[0].source, IDX "/package/6/umqtt.simple/latest.json");
        CHECK_EQ(r.packages[0].files, 2);
        CHECK_STR(r.files[0].target, "lib/ssl.mpy");
        CHECK_STR(r.files[1].target, "lib/umqtt/simple.mpy");
        CHECK_STR(r.files[1].url, IDX "/file/92/9240e244");
        CHECK(hex_starts(r.files[0].sha256, "d53a3211"));
        CHECK(hex_starts(r.files[1].sha256, "9240e244"));
        uint8_t sha[32];
        esp01_sha256(r.files[1].data, r.files[1].len, sha);
        CHECK(memcmp(sha, r.files[1].sha256, 32) == 0);
        CHECK(r.files[1].len > 100);
        CHECK_EQ(r.total_bytes, r.files[0].len + r.files[1].len);
    }
    CHECK_EQ(mem.index_calls, 0); /* index.json only on a miss */
    esp01_mip_result_free(&r);
    o.mpy = "py";
    o.target = "lib/x";
    CHECK_EQ(resolve1("umqtt.simple@1.8.0", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 2);
    if (r.file_count == 2)
        CHECK_STR(r.files[1].target, "lib/x/umqtt/simple.py");
    esp01_mip_result_free(&r);
}

TEST(short_hash_mismatch_returns_nothing)
{
    mem_reset();
    esp01_mip_options o = opts();
    esp01_mip_result r;
    esp01_err e;
    mem_str(IDX "/package/6/bad/latest.json",
            "{\"hashes\":[[\"good.mpy\",\"d53a3211\"],[\"bad.py\",\"0000\"]]}");
    mem_str(IDX "/file/00/0000", "print(1)\n");
    CHECK_EQ(resolve1("bad", &o, &r, &e), ESP01_E_CHECKSUM);
    CHECK(strstr(e.msg, "lib/bad.py") != NULL);
    CHECK_EQ(r.file_count, 0);
    CHECK(r.files == NULL && r.packages == NULL);
    /* a short hash that is no hex prefix at all */
    mem_str(IDX "/package/6/bad/latest.json", "{\"hashes\":[[\"bad.py\",\"ABCD\"]]}");
    CHECK_EQ(resolve1("bad", &o, &r, &e), ESP01_E_FORMAT);
    mem_str(IDX "/package/6/bad/latest.json", "{\"hashes\":[[\"bad.py\",\"abc\"]]}");
    CHECK_EQ(resolve1("bad", &o, &r, &e), ESP01_E_FORMAT);
    /* a longer prefix is fine when it matches: the index chooses */
    mem_str(IDX "/package/6/long/latest.json",
            "{\"hashes\":[[\"s.mpy\",\"d53a3211\"]],\"version\":\"2\"}");
    CHECK_EQ(resolve1("long", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 1);
    esp01_mip_result_free(&r);
    mem_str(IDX "/package/6/bad/latest.json", "{\"hashes\":[[\"x.py\",\"d53a\"]],\"version\":7}");
    CHECK_EQ(resolve1("bad", &o, &r, &e), ESP01_E_FORMAT);
    mem_str(IDX "/package/6/bad/latest.json", "[1,2]");
    CHECK_EQ(resolve1("bad", &o, &r, &e), ESP01_E_FORMAT);
    mem_str(IDX "/package/6/bad/latest.json", "{\"hashes\":[[\"x.py\"]]}");
    CHECK_EQ(resolve1("bad", &o, &r, &e), ESP01_E_FORMAT);
    mem_str(IDX "/package/6/bad/latest.json", "{\"hashes\":");
    CHECK_EQ(resolve1("bad", &o, &r, &e), ESP01_E_FORMAT);
}

TEST(github_gitlab_codeberg_rewriting)
{
    mem_reset();
    esp01_mip_options o = opts();
    esp01_mip_result r;
    esp01_err e;
    const char *pj = "{\"urls\":[[\"m/a.py\",\"github:org/repo/src/a.py\"],[\"b.py\",\"b.py\"]],"
                     "\"version\":\"1.0\"}";
    mem_str("https://raw.githubusercontent.com/org/repo/HEAD/package.json", pj);
    mem_str("https://raw.githubusercontent.com/org/repo/HEAD/src/a.py", "A");
    mem_str("https://raw.githubusercontent.com/org/repo/HEAD/b.py", "B");
    mem_str("https://raw.githubusercontent.com/org/repo/v2/package.json", pj);
    mem_str("https://raw.githubusercontent.com/org/repo/v2/src/a.py", "A2");
    mem_str("https://raw.githubusercontent.com/org/repo/v2/b.py", "B2");
    CHECK_EQ(resolve1("github:org/repo", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 2);
    if (r.file_count == 2) {
        CHECK_STR(r.files[0].target, "lib/m/a.py");
        CHECK_STR(r.files[0].url, "https://raw.githubusercontent.com/org/repo/HEAD/src/a.py");
        CHECK_STR(r.files[1].url, "https://raw.githubusercontent.com/org/repo/HEAD/b.py");
        CHECK_EQ(r.files[1].len, 1);
        CHECK_STR(r.packages[0].name, "github:org/repo");
    }
    esp01_mip_result_free(&r);
    CHECK_EQ(resolve1("github:org/repo@v2", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 2);
    if (r.file_count == 2) {
        CHECK_STR(r.files[0].url, "https://raw.githubusercontent.com/org/repo/v2/src/a.py");
        CHECK_EQ(r.files[1].len, 2);
    }
    esp01_mip_result_free(&r);
    mem_str("https://gitlab.com/o/r/-/raw/main/x/a.py", "GL");
    CHECK_EQ(resolve1("gitlab:o/r/x/a.py@main", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 1);
    if (r.file_count == 1)
        CHECK_STR(r.files[0].target, "lib/a.py");
    esp01_mip_result_free(&r);
    mem_str("https://codeberg.org/api/v1/repos/o/r/raw/b.mpy?ref=HEAD", "CB");
    CHECK_EQ(resolve1("codeberg:o/r/b.mpy", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 1);
    esp01_mip_result_free(&r);
    CHECK_EQ(resolve1("github:org", &o, &r, &e), ESP01_E_INVAL);
}

TEST(relative_urls_and_local_files)
{
    mem_reset();
    esp01_mip_options o = opts();
    esp01_mip_result r;
    esp01_err e;
    mem_str("https://h.test/p/pkg.json",
            "{\"urls\":[[\"a.py\",\"a.py\"],[\"s/b.py\",\"q/b.py\"],[\"c.py\",\"https://o.test/c.py\"]]}");
    mem_str("https://h.test/p/a.py", "a");
    mem_str("https://h.test/p/q/b.py", "b");
    mem_str("https://o.test/c.py", "c");
    CHECK_EQ(resolve1("https://h.test/p/pkg.json", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 3);
    if (r.file_count == 3) {
        CHECK_STR(r.files[1].url, "https://h.test/p/q/b.py");
        CHECK_STR(r.files[1].target, "lib/s/b.py");
        CHECK_STR(r.files[2].url, "https://o.test/c.py");
    }
    esp01_mip_result_free(&r);
    /* a folder URL means its package.json */
    mem_str("https://h.test/d/package.json", "{\"urls\":[[\"z.py\",\"z.py\"]]}");
    mem_str("https://h.test/d/z.py", "z");
    CHECK_EQ(resolve1("https://h.test/d", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 1);
    esp01_mip_result_free(&r);
    /* a remote package naming a local file */
    mem_str("https://h.test/evil.json", "{\"urls\":[[\"p.py\",\"file:///etc/passwd\"]]}");
    CHECK_EQ(resolve1("https://h.test/evil.json", &o, &r, &e), ESP01_E_INVAL);
    CHECK_EQ(r.file_count, 0);
}

TEST(deps_dedupe_and_cycle)
{
    mem_reset();
    esp01_mip_options o = opts();
    esp01_mip_result r;
    esp01_err e;
    mem_str(IDX "/package/6/pa/latest.json", "{\"deps\":[[\"pb\",\"latest\"],[\"pc\",\"latest\"]]}");
    mem_str(IDX "/package/6/pb/latest.json",
            "{\"hashes\":[[\"ssl.mpy\",\"d53a3211\"]],\"deps\":[[\"pd\",\"latest\"]]}");
    mem_str(IDX "/package/6/pc/latest.json", "{\"deps\":[[\"pd\",\"latest\"],[\"umqtt.simple\",\"latest\"]]}");
    mem_str(IDX "/package/6/pd/latest.json", "{\"version\":\"4\"}");
    CHECK_EQ(resolve1("pa", &o, &r, &e), 0);
    CHECK_EQ(r.package_count, 5); /* pa pb pd pc umqtt.simple: pd once */
    CHECK_EQ(r.file_count, 2);    /* ssl.mpy from pb and umqtt.simple: once */
    if (r.package_count == 5) {
        CHECK_STR(r.packages[2].name, "pd");
        CHECK_STR(r.packages[4].name, "umqtt.simple");
    }
    esp01_mip_result_free(&r);
    mem_str(IDX "/package/6/pd/latest.json", "{\"deps\":[[\"pa\"]]}");
    CHECK_EQ(resolve1("pa", &o, &r, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "pa -> pb -> pd -> pa") != NULL);
    CHECK_EQ(r.package_count, 0);
    /* two packages, one target, different bytes */
    mem_str(IDX "/package/6/pd/latest.json", "{\"hashes\":[[\"ssl.mpy\",\"9240e244\"]]}");
    CHECK_EQ(resolve1("pa", &o, &r, &e), ESP01_E_INVAL);
}

TEST(limits_depth_count_size)
{
    mem_reset();
    esp01_mip_options o = opts();
    esp01_mip_result r;
    esp01_err e;
    char url[256], body[256];
    for (int i = 0; i < 12; i++) {
        snprintf(url, sizeof url, IDX "/package/6/d%d/latest.json", i);
        snprintf(body, sizeof body, "{\"deps\":[[\"d%d\",\"latest\"]]}", i + 1);
        mem_str(url, body);
    }
    mem_str(IDX "/package/6/d12/latest.json", "{}");
    CHECK_EQ(resolve1("d4", &o, &r, &e), 0); /* d4..d12: 9 deep */
    CHECK_EQ(r.package_count, 9);
    esp01_mip_result_free(&r);
    CHECK_EQ(resolve1("d0", &o, &r, &e), ESP01_E_LIMIT);
    CHECK(strstr(e.msg, "d0 -> d1") != NULL);
    /* more packages than the limit */
    char big[4096] = "{\"deps\":[";
    for (int i = 0; i < 70; i++) {
        snprintf(url, sizeof url, IDX "/package/6/w%d/latest.json", i);
        mem_str(url, "{}");
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s[\"w%d\",\"latest\"]", i ? "," : "", i);
    }
    strcat(big, "]}");
    mem_str(IDX "/package/6/wide/latest.json", big);
    CHECK_EQ(resolve1("wide", &o, &r, &e), ESP01_E_LIMIT);
    /* one file too large; all files together too large */
    uint8_t *blob = calloc(1, ESP01_MIP_MAX_FILE + 1);
    mem_put("https://h.test/huge.py", blob, ESP01_MIP_MAX_FILE + 1);
    CHECK_EQ(resolve1("https://h.test/huge.py", &o, &r, &e), ESP01_E_LIMIT);
    const char *five = "{\"urls\":[[\"1.py\",\"1.py\"],[\"2.py\",\"2.py\"],[\"3.py\",\"3.py\"],"
                       "[\"4.py\",\"4.py\"],[\"5.py\",\"5.py\"]]}";
    mem_str("https://h.test/t/package.json", five);
    for (int i = 1; i <= 5; i++) {
        snprintf(url, sizeof url, "https://h.test/t/%d.py", i);
        blob[0] = (uint8_t)i;
        mem_put(url, blob, ESP01_MIP_MAX_FILE - 10);
    }
    free(blob);
    CHECK_EQ(resolve1("https://h.test/t/", &o, &r, &e), ESP01_E_LIMIT);
    CHECK_EQ(r.file_count, 0);
    mem_reset();
}

TEST(unknown_name_and_version)
{
    mem_reset();
    esp01_mip_options o = opts();
    esp01_mip_result r;
    esp01_err e;
    CHECK_EQ(resolve1("umqtt.simpel", &o, &r, &e), ESP01_E_NOTFOUND);
    CHECK(strstr(e.msg, "umqtt.simpel") != NULL);
    CHECK(strstr(e.msg, "did you mean umqtt.simple?") != NULL);
    CHECK_EQ(mem.index_calls, 1);
    CHECK_EQ(resolve1("zzzzzzzzzzzzqqq", &o, &r, &e), ESP01_E_NOTFOUND);
    CHECK(strstr(e.msg, "did you mean") == NULL);
    CHECK_EQ(resolve1("umqtt.simple@9.9.9", &o, &r, &e), ESP01_E_NOTFOUND);
    CHECK(strstr(e.msg, "versions: 1.8.0") != NULL);
    CHECK_EQ(resolve1("../etc", &o, &r, &e), ESP01_E_INVAL);
    CHECK_EQ(resolve1("a@../b", &o, &r, &e), ESP01_E_INVAL);
    CHECK_EQ(resolve1("@1", &o, &r, &e), ESP01_E_INVAL);
}

TEST(frozen_packages_skipped)
{
    mem_reset();
    esp01_mip_options o = opts();
    const char *frozen[] = {"ntptime", "dht"};
    o.frozen = frozen;
    o.frozen_count = 2;
    esp01_mip_result r;
    esp01_err e;
    const char *reqs[] = {"ntptime", "umqtt.simple"};
    CHECK_EQ(esp01_mip_resolve(reqs, 2, &o, &r, &e), 0);
    CHECK_EQ(r.package_count, 2);
    CHECK_EQ(r.file_count, 2);
    if (r.package_count == 2) {
        CHECK(r.packages[0].skipped_frozen);
        CHECK_EQ(r.packages[0].files, 0);
        CHECK(!r.packages[1].skipped_frozen);
    }
    esp01_mip_result_free(&r);
    o.frozen_count = 0;
    CHECK_EQ(resolve1("ntptime", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 1);
    esp01_mip_result_free(&r);
}

TEST(hostile_targets)
{
    static const char *const bad[] = {"../boot.py", "/x.py", "a//b.py", "a/./b.py", "a/../../b.py",
                                      "a\\\\..\\\\b.py", "C:x.py", "", ".", "a/"};
    esp01_mip_options o = opts();
    esp01_mip_result r;
    esp01_err e;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mem_reset();
        char pj[256];
        snprintf(pj, sizeof pj, "{\"urls\":[[\"ok.py\",\"ok.py\"],[\"%s\",\"x.py\"]]}", bad[i]);
        mem_str("https://h.test/p/package.json", pj);
        mem_str("https://h.test/p/ok.py", "1");
        mem_str("https://h.test/p/x.py", "2");
        int rc = resolve1("https://h.test/p", &o, &r, &e);
        CHECK_EQ(rc, ESP01_E_INVAL);
        CHECK_EQ(r.file_count, 0);
        if (rc != ESP01_E_INVAL)
            printf("# target '%s'\n", bad[i]);
    }
    o.target = "../lib";
    CHECK_EQ(resolve1("umqtt.simple", &o, &r, &e), ESP01_E_INVAL);
}

static bool same_files(const esp01_mip_result *a, const esp01_mip_result *b)
{
    if (a->file_count != b->file_count || a->package_count != b->package_count)
        return false;
    for (size_t i = 0; i < a->file_count; i++)
        if (strcmp(a->files[i].target, b->files[i].target) || strcmp(a->files[i].url, b->files[i].url) ||
            memcmp(a->files[i].sha256, b->files[i].sha256, 32) || a->files[i].len != b->files[i].len ||
            memcmp(a->files[i].data, b->files[i].data, a->files[i].len))
            return false;
    return true;
}

TEST(lock_roundtrip_and_tamper)
{
    mem_reset();
    cache_reset();
    esp01_mip_options o = opts();
    o.cache_get = cget;
    o.cache_put = cput;
    const char *frozen[] = {"ntptime"};
    o.frozen = frozen;
    o.frozen_count = 1;
    esp01_mip_result r, l;
    esp01_err e;
    const char *reqs[] = {"umqtt.simple", "ntptime", "base64@3.3.6"};
    CHECK_EQ(esp01_mip_resolve(reqs, 3, &o, &r, &e), 0);
    char *text;
    size_t len;
    CHECK_EQ(esp01_mip_lock_write(&r, &o, &text, &len, &e), 0);
    CHECK(strstr(text, "\"mpy\":\"6\"") != NULL);
    CHECK(strstr(text, "\n{\"target\":\"lib/ssl.mpy\",\"url\":\"" IDX "/file/d5/d53a3211\",\"sha256\":\"d53a3211") != NULL);
    CHECK(strstr(text, "\"frozen\":true") != NULL);
    CHECK_EQ(esp01_mip_lock_check((const uint8_t *)text, len, &e), 0);
    /* from the cache alone: no fetch at all */
    esp01_mip_options c = opts();
    c.fetch = NULL;
    c.cache_get = cget;
    CHECK_EQ(esp01_mip_resolve_locked((const uint8_t *)text, len, &c, &l, &e), 0);
    CHECK(same_files(&r, &l));
    if (l.package_count == 3)
        CHECK(l.packages[1].skipped_frozen);
    esp01_mip_result_free(&l);
    /* no cache: from the URLs, hashes checked */
    CHECK_EQ(esp01_mip_resolve_locked((const uint8_t *)text, len, &o, &l, &e), 0);
    CHECK(same_files(&r, &l));
    esp01_mip_result_free(&l);
    /* a changed hash */
    char *h = strstr(text, "\"sha256\":\"") + 10;
    *h = *h == 'd' ? 'e' : 'd';
    CHECK_EQ(esp01_mip_lock_check((const uint8_t *)text, len, &e), 0);
    CHECK_EQ(esp01_mip_resolve_locked((const uint8_t *)text, len, &o, &l, &e), ESP01_E_CHECKSUM);
    CHECK_EQ(l.file_count, 0);
    CHECK_EQ(esp01_mip_resolve_locked((const uint8_t *)text, len, &c, &l, &e), ESP01_E_IO);
    *h = 'X';
    CHECK_EQ(esp01_mip_lock_check((const uint8_t *)text, len, &e), ESP01_E_FORMAT);
    free(text);
    esp01_mip_result_free(&r);
    static const char *const broken[] = {
        "", "[]", "{\"version\":2,\"index\":\"i\",\"mpy\":\"6\",\"packages\":[],\"files\":[]}",
        "{\"version\":1,\"index\":\"i\",\"mpy\":\"6\",\"packages\":[]}",
        "{\"version\":1,\"index\":\"i\",\"mpy\":\"6\",\"packages\":[{\"name\":\"p\",\"version\":\"\",\"source\":\"\"}],"
        "\"files\":[{\"target\":\"../x.py\",\"url\":\"u\",\"sha256\":\"" "0000000000000000000000000000000000000000000000000000000000000000" "\",\"package\":\"p\",\"size\":1}]}",
        "{\"version\":1,\"index\":\"i\",\"mpy\":\"6\",\"packages\":[{\"name\":\"p\",\"version\":\"\",\"source\":\"\"}],"
        "\"files\":[{\"target\":\"lib/x.py\",\"url\":\"u\",\"sha256\":\"" "0000000000000000000000000000000000000000000000000000000000000000" "\",\"package\":\"q\",\"size\":1}]}",
        "{\"version\":1,\"index\":\"i\",\"mpy\":\"6\",\"packages\":[{\"name\":\"p\",\"version\":\"\",\"source\":\"\"}],"
        "\"files\":[{\"target\":\"lib/x.py\",\"url\":\"u\",\"sha256\":\"" "0000000000000000000000000000000000000000000000000000000000000000" "\",\"package\":\"p\",\"size\":-1}]}",
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++)
        CHECK_EQ(esp01_mip_lock_check((const uint8_t *)broken[i], strlen(broken[i]), &e), ESP01_E_FORMAT);
    const char *okl = "{\"version\":1,\"index\":\"i\",\"mpy\":\"6\",\"packages\":[{\"name\":\"p\",\"version\":\"\",\"source\":\"\"}],"
        "\"files\":[{\"target\":\"lib/x.py\",\"url\":\"u\",\"sha256\":\"" "0000000000000000000000000000000000000000000000000000000000000000" "\",\"package\":\"p\",\"size\":1}]}";
    CHECK_EQ(esp01_mip_lock_check((const uint8_t *)okl, strlen(okl), &e), 0);
    cache_reset();
}

TEST(project_requests)
{
    const char *pj = "{\"name\":\"app\",\"deps\":[[\"umqtt.simple\",\"latest\"],[\"github:o/r\",\"main\"],"
                     "[\"x\",\"1.0\"]]}";
    char **q;
    size_t n;
    esp01_err e;
    CHECK_EQ(esp01_mip_project_requests((const uint8_t *)pj, strlen(pj), &q, &n, &e), 0);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_STR(q[0], "umqtt.simple");
        CHECK_STR(q[1], "github:o/r@main");
        CHECK_STR(q[2], "x@1.0");
    }
    esp01_mip_requests_free(q, n);
    CHECK_EQ(esp01_mip_project_requests((const uint8_t *)"{}", 2, &q, &n, &e), 0);
    CHECK_EQ(n, 0);
    static const char *const bad[] = {"[]", "{\"deps\":{}}", "{\"deps\":[[1,\"2\"]]}", "{\"deps\":[[\"a\",\"b\",\"c\"]]}",
                                      "{\"deps\":[[\"a\",\"\"]]}", "{\"deps\":[\"a\"]}", "{\"deps\":"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(esp01_mip_project_requests((const uint8_t *)bad[i], strlen(bad[i]), &q, &n, &e), ESP01_E_FORMAT);
        CHECK(q == NULL && n == 0);
    }
}

TEST(local_mirror_and_cache_folder)
{
    char idx[1024], dir[1024], sub[1100];
    snprintf(idx, sizeof idx, "%s/fixtures/mip/v2", check_shared());
    snprintf(dir, sizeof dir, "%s/esp01-mip-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)rand());
    esp01_mip_options o;
    esp01_mip_defaults(&o);
    o.index = idx;
    o.mpy = "6";
    o.fetch = esp01_mip_fetch_default;
    o.cache_get = esp01_mip_cache_dir_get;
    o.cache_put = esp01_mip_cache_dir_put;
    o.cache_ctx = dir;
    esp01_mip_result r, l;
    esp01_err e;
    CHECK_EQ(resolve1("umqtt.simple", &o, &r, &e), 0);
    CHECK_EQ(r.file_count, 2);
    esp01_mip_result_free(&r);
    CHECK_EQ(resolve1("nosuchpkg", &o, &r, &e), ESP01_E_NOTFOUND);
    CHECK_EQ(resolve1("umqtt.simple", &o, &r, &e), 0);
    char *text;
    size_t len;
    CHECK_EQ(esp01_mip_lock_write(&r, &o, &text, &len, &e), 0);
    o.fetch = NULL;
    CHECK_EQ(esp01_mip_resolve_locked((const uint8_t *)text, len, &o, &l, &e), 0);
    CHECK(same_files(&r, &l));
    esp01_mip_result_free(&l);
    /* a damaged cache entry is not returned */
    char hex[65];
    esp01_hex(r.files[0].sha256, 32, hex);
    snprintf(sub, sizeof sub, "%s/%.2s/%s", dir, hex, hex);
    CHECK_EQ(esp01_write_file_atomic(sub, (const uint8_t *)"x", 1, &e), 0);
    uint8_t *b;
    size_t bl;
    CHECK_EQ(esp01_mip_cache_dir_get(dir, r.files[0].sha256, &b, &bl, &e), ESP01_E_CHECKSUM);
    CHECK_EQ(esp01_mip_resolve_locked((const uint8_t *)text, len, &o, &l, &e), ESP01_E_IO);
    CHECK_EQ(esp01_mip_cache_dir_put(dir, r.files[1].sha256, (const uint8_t *)"x", 1, &e), ESP01_E_CHECKSUM);
    /* file:// */
    char furl[1100];
    snprintf(furl, sizeof furl, "file://%s/package/6/umqtt.simple/latest.json", idx);
    CHECK_EQ(esp01_mip_fetch_default(NULL, furl, 4096, &b, &bl, &e), 0);
    CHECK(bl > 10 && b[0] == '{');
    free(b);
    free(text);
    esp01_mip_result_free(&r);
}

int main(void)
{
    RUN(index_name_gives_files_targets_hashes);
    RUN(short_hash_mismatch_returns_nothing);
    RUN(github_gitlab_codeberg_rewriting);
    RUN(relative_urls_and_local_files);
    RUN(deps_dedupe_and_cycle);
    RUN(limits_depth_count_size);
    RUN(unknown_name_and_version);
    RUN(frozen_packages_skipped);
    RUN(hostile_targets);
    RUN(lock_roundtrip_and_tamper);
    RUN(project_requests);
    RUN(local_mirror_and_cache_folder);
    mem_reset();
    CHECK_DONE();
}
