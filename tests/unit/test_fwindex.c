/* Official firmware file names and the board page's links (fwindex.c). */
#include "check.h"
#include "esp01/fwindex.h"

static int name(const char *s, esp01_fw_file *f)
{
    return esp01_fw_name_parse(s, strlen(s), f);
}

TEST(new_names)
{
    esp01_fw_file f;
    CHECK_EQ(name("ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin", &f), 0);
    CHECK_EQ(f.variant, ESP01_FW_1M);
    CHECK_STR(f.date, "2024-11-29");
    CHECK_STR(f.version.tag, "v1.24.1");
    CHECK_EQ(f.version.kind, ESP01_FW_RELEASE);
    CHECK(!f.old_name);
    CHECK_EQ(name("ESP8266_GENERIC-20240105-v1.22.1.bin", &f), 0);
    CHECK_EQ(f.variant, ESP01_FW_GENERIC);
    CHECK_EQ(name("ESP8266_GENERIC-FLASH_512K-20190125-v1.10.bin", &f), 0);
    CHECK_EQ(f.variant, ESP01_FW_512K);
    CHECK_EQ(f.version.minor, 10);
    CHECK_EQ(f.version.patch, 0);
    CHECK_STR(f.version.tag, "v1.10");
    CHECK_EQ(name("ESP8266_GENERIC-FLASH_2M_ROMFS-20250415-v1.25.0.bin", &f), 0);
    CHECK_EQ(f.variant, ESP01_FW_2M_ROMFS);
    CHECK_EQ(name("ESP8266_GENERIC-OTA-20240602-v1.23.0.bin", &f), 0);
    CHECK_EQ(f.variant, ESP01_FW_OTA);
    CHECK_EQ(name("ESP8266_GENERIC-FLASH_1M-20250102-v1.25.0-preview.203.gb7e1a4b3c.bin", &f), 0);
    CHECK_EQ(f.version.kind, ESP01_FW_PREVIEW);
    CHECK_EQ(f.version.build, 203);
    CHECK_STR(f.version.tag, "v1.25.0-preview.203.gb7e1a4b3c");
}

TEST(old_names)
{
    esp01_fw_file f;
    CHECK_EQ(name("esp8266-20210902-v1.17.bin", &f), 0);
    CHECK_EQ(f.variant, ESP01_FW_GENERIC);
    CHECK(f.old_name);
    CHECK_EQ(name("esp8266-1m-20220618-v1.19.1.bin", &f), 0);
    CHECK_EQ(f.variant, ESP01_FW_1M);
    CHECK_EQ(name("esp8266-512k-20180511-v1.9.4.bin", &f), 0);
    CHECK_EQ(f.variant, ESP01_FW_512K);
    CHECK_EQ(name("esp8266-20220117-unstable-v1.17-333-gcb5d2136c.bin", &f), 0);
    CHECK_EQ(f.version.kind, ESP01_FW_DEV);
    CHECK_EQ(f.version.build, 333);
    CHECK_STR(f.version.tag, "v1.17-333-gcb5d2136c");
}

TEST(bad_names)
{
    esp01_fw_file f;
    const char *bad[] = {
        "ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.elf",
        "ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin.sha256",
        "ESP32_GENERIC-20241129-v1.24.1.bin",
        "ESP8266_GENERIC-FLASH_4M-20241129-v1.24.1.bin",
        "ESP8266_GENERIC-FLASH_1M-20241329-v1.24.1.bin",  /* month 13 */
        "ESP8266_GENERIC-FLASH_1M-2024112-v1.24.1.bin",
        "ESP8266_GENERIC-FLASH_1M-20241129-1.24.1.bin",   /* no v */
        "ESP8266_GENERIC-FLASH_1M-20241129-v1.bin",
        "ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1x.bin",
        "ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1-preview.3.gxyz1234.bin",
        "ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1-preview.3.gab.bin", /* short hash */
        "ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1/../x.bin",
        "../ESP8266_GENERIC-20241129-v1.24.1.bin",
        "esp8266-2m-20210902-v1.17.bin",
        "ESP8266_GENERIC-20241129-v1234.24.1.bin",
        ".bin",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = name(bad[i], &f);
        if (rc != ESP01_E_FORMAT)
            printf("  accepted: %s\n", bad[i]);
        CHECK_EQ(rc, ESP01_E_FORMAT);
    }
}

static esp01_fw_version ver(const char *s)
{
    esp01_fw_version v;
    memset(&v, 0, sizeof v);
    if (esp01_fw_version_parse(s, strlen(s), &v) < 0)
        printf("  cannot parse %s\n", s);
    return v;
}

TEST(versions)
{
    esp01_fw_version v = ver("1.24.1");
    CHECK_STR(v.tag, "v1.24.1");
    esp01_fw_version a = ver("v1.24.1");
    CHECK_EQ(esp01_fw_version_cmp(&v, &a), 0);
    esp01_fw_version b = ver("v1.25.0-preview.3.gab12cd3");
    esp01_fw_version c = ver("1.25.0");
    esp01_fw_version d = ver("v1.24.1-12-gab12cd3");
    CHECK(esp01_fw_version_cmp(&b, &c) < 0);   /* a preview leads up to its release */
    CHECK(esp01_fw_version_cmp(&b, &a) > 0);
    CHECK(esp01_fw_version_cmp(&d, &a) > 0);   /* a dev build follows its release */
    CHECK(esp01_fw_version_cmp(&d, &b) < 0);
    esp01_fw_version e = ver("1.9.4"), f = ver("1.10");
    CHECK(esp01_fw_version_cmp(&e, &f) < 0);   /* numbers, not text */
    CHECK(esp01_fw_version_matches(&f, &(esp01_fw_version){1, 10, 0, 0, 0, "v1.10"}));
    esp01_fw_version g = ver("1.10.0");
    CHECK(esp01_fw_version_matches(&g, &f));
    CHECK(!esp01_fw_version_matches(&c, &b));  /* 1.25.0 is not its preview */
    CHECK(esp01_fw_version_matches(&b, &b));
    esp01_fw_version x;
    CHECK_EQ(esp01_fw_version_parse("latest", 6, &x), ESP01_E_FORMAT);
    CHECK_EQ(esp01_fw_version_parse("1.24.1 ", 7, &x), ESP01_E_FORMAT);
    CHECK_EQ(esp01_fw_version_parse("", 0, &x), ESP01_E_FORMAT);
}

TEST(variant_names)
{
    CHECK_EQ(esp01_fw_variant_parse("1m"), ESP01_FW_1M);
    CHECK_EQ(esp01_fw_variant_parse("ESP8266_GENERIC-FLASH_1M"), ESP01_FW_1M);
    CHECK_EQ(esp01_fw_variant_parse("FLASH_512K"), ESP01_FW_512K);
    CHECK_EQ(esp01_fw_variant_parse("2M+"), ESP01_FW_GENERIC);
    CHECK_EQ(esp01_fw_variant_parse("generic"), ESP01_FW_GENERIC);
    CHECK_EQ(esp01_fw_variant_parse("romfs"), ESP01_FW_2M_ROMFS);
    CHECK_EQ(esp01_fw_variant_parse("ota"), ESP01_FW_OTA);
    CHECK(esp01_fw_variant_parse("8M") < 0);
    CHECK_EQ(esp01_fw_variant_for_chip(1u << 20), ESP01_FW_1M);
    CHECK_EQ(esp01_fw_variant_for_chip(4u << 20), ESP01_FW_GENERIC);
    CHECK(esp01_fw_variant_for_chip(512u << 10) < 0);
}

static const char page[] =
    "<!DOCTYPE html><html><head><title>MicroPython - ESP8266</title>"
    "<link href=\"/static/style.css\" rel=stylesheet></head><body>\n"
    "<h2>Firmware</h2><h3>Releases</h3>\n"
    "<a href=\"/resources/firmware/ESP8266_GENERIC-20241129-v1.24.1.bin\">v1.24.1 (2024-11-29) .bin</a>\n"
    "<a href='/resources/firmware/ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin'>1M</a>\n"
    "<a HREF = /resources/firmware/ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin>v1.23.0</a>\n"
    "<a href=\"https://micropython.org/resources/firmware/ESP8266_GENERIC-FLASH_512K-20241129-v1.24.1.bin\">512K</a>\n"
    "<a href=\"/resources/firmware/ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin\">again</a>\n"
    "<a href=\"/resources/firmware/esp8266-1m-20220618-v1.19.1.bin\">old</a>\n"
    "<a href=\"/resources/firmware/ESP8266_GENERIC-FLASH_1M-20220618-v1.19.1.bin\">renamed</a>\n"
    "<h3>Preview builds</h3>\n"
    "<a href=\"/resources/firmware/ESP8266_GENERIC-FLASH_1M-20250102-v1.25.0-preview.203.gb7e1a4b3c.bin\">p</a>\n"
    /* Not firmware files, or not only one. */
    "<a href=\"/resources/firmware/ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin?x=1\">query</a>\n"
    "<a href=\"/resources/firmware/ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin.sha256\">sum</a>\n"
    "<a href=\"/elsewhere/ESP8266_GENERIC-FLASH_1M-20240101-v1.30.0.bin\">elsewhere</a>\n"
    "<a href=\"javascript:/resources/firmware/ESP8266_GENERIC-20240101-v1.30.0.bin\">js</a>\n"
    "<a data-href=\"/resources/firmware/ESP8266_GENERIC-20240101-v1.31.0.bin\">attr</a>\n"
    "<p>/resources/firmware/ESP8266_GENERIC-20240101-v1.32.0.bin in text</p>\n"
    "</body></html>\n";

TEST(page_links)
{
    esp01_fw_list l = {0};
    int n = esp01_fw_page_parse((const uint8_t *)page, sizeof page - 1, &l, NULL);
    CHECK_EQ(n, 6);
    CHECK_EQ(l.count, 6);
    esp01_fw_list_sort(&l);
    CHECK_STR(l.files[0].name,
              "ESP8266_GENERIC-FLASH_1M-20250102-v1.25.0-preview.203.gb7e1a4b3c.bin");
    CHECK_STR(l.files[1].name, "ESP8266_GENERIC-20241129-v1.24.1.bin");
    CHECK_STR(l.files[2].name, "ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin");
    CHECK_STR(l.files[3].name, "ESP8266_GENERIC-FLASH_512K-20241129-v1.24.1.bin");
    CHECK_STR(l.files[4].name, "ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin");
    /* Published under both schemes: kept once, under today's name. */
    CHECK_STR(l.files[5].name, "ESP8266_GENERIC-FLASH_1M-20220618-v1.19.1.bin");

    const esp01_fw_file *f = esp01_fw_list_pick(&l, ESP01_FW_1M, NULL);
    CHECK(f && strcmp(f->version.tag, "v1.24.1") == 0);  /* not the preview */
    esp01_fw_version want = ver("1.23");
    f = esp01_fw_list_pick(&l, ESP01_FW_1M, &want);
    CHECK(f && strcmp(f->name, "ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin") == 0);
    want = ver("v1.25.0-preview.203.gb7e1a4b3c");
    f = esp01_fw_list_pick(&l, ESP01_FW_1M, &want);
    CHECK(f && f->version.kind == ESP01_FW_PREVIEW);
    want = ver("1.25.0");
    CHECK(esp01_fw_list_pick(&l, ESP01_FW_1M, &want) == NULL);
    CHECK(esp01_fw_list_pick(&l, ESP01_FW_2M_ROMFS, NULL) == NULL);
    esp01_fw_list_free(&l);
}

TEST(hostile_pages)
{
    esp01_fw_list l = {0};
    const char *pages[] = {
        "", "href", "href=", "<a href=\"", "<a href='/resources/firmware/ESP8266_GENERIC-20241129-v1.24.1.bin",
        " href=/resources/firmware/ESP8266_GENERIC-20241129-v1.24.1.bin", /* ends without '>' */
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        CHECK(esp01_fw_page_parse((const uint8_t *)pages[i], strlen(pages[i]), &l, NULL) >= 0);
    CHECK_EQ(l.count, 0);
    /* A link longer than any firmware URL is skipped whole. */
    static char big[4096];
    memset(big, 'a', sizeof big);
    memcpy(big, " href=\"", 7);
    const char *tail = "/resources/firmware/ESP8266_GENERIC-20241129-v1.24.1.bin\">";
    memcpy(big + sizeof big - strlen(tail), tail, strlen(tail));
    CHECK_EQ(esp01_fw_page_parse((const uint8_t *)big, sizeof big, &l, NULL), 0);
    /* The link limit bounds the work on a page of endless links. */
    size_t one = strlen(" href=/resources/firmware/ESP8266_GENERIC-20241129-v1.24.1.bin>");
    size_t count = ESP01_FW_PAGE_MAX_LINKS + 100;
    char *many = malloc(one * count);
    for (size_t i = 0; i < count; i++)
        memcpy(many + i * one, " href=/resources/firmware/ESP8266_GENERIC-20241129-v1.24.1.bin>", one);
    CHECK_EQ(esp01_fw_page_parse((const uint8_t *)many, one * count, &l, NULL), 1);
    free(many);
    esp01_fw_list_free(&l);
}

int main(void)
{
    RUN(new_names);
    RUN(old_names);
    RUN(bad_names);
    RUN(versions);
    RUN(variant_names);
    RUN(page_links);
    RUN(hostile_pages);
    CHECK_DONE();
}
