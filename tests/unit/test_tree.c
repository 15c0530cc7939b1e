#include "check.h"

#include "util/bytes.h"
#include "esp01/hash.h"
#include "esp01/tree.h"

TEST(path_rules)
{
    esp01_err e;
    CHECK_EQ(esp01_path_check("main.py", &e), 0);
    CHECK_EQ(esp01_path_check("lib/a/b.py", &e), 0);
    CHECK(esp01_path_check("", &e) < 0);
    CHECK(esp01_path_check("/main.py", &e) < 0);
    CHECK(esp01_path_check("lib//a", &e) < 0);
    CHECK(esp01_path_check("lib/", &e) < 0);
    CHECK(esp01_path_check("../x", &e) < 0);
    CHECK(esp01_path_check("a/./x", &e) < 0);
    char name[300];
    memset(name, 'n', 255);
    name[255] = '\0';
    CHECK_EQ(esp01_path_check(name, &e), 0);
    memset(name, 'n', 256);
    name[256] = '\0';
    CHECK_EQ(esp01_path_check(name, &e), ESP01_E_LIMIT);
    CHECK(strstr(e.msg, "256 bytes") != NULL);
}

TEST(normalize_adds_parents_in_order)
{
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err e;
    CHECK_EQ(esp01_tree_add_file(&t, "lib/x/y.py", (const uint8_t *)"y", 1, &e), 0);
    CHECK_EQ(esp01_tree_add_file(&t, "boot.py", NULL, 0, &e), 0);
    CHECK_EQ(esp01_tree_add_file(&t, "lib-z", (const uint8_t *)"z", 1, &e), 0);
    CHECK_EQ(esp01_tree_normalize(&t, &e), 0);
    CHECK_EQ(t.count, 5);
    CHECK_STR(t.entries[0].path, "boot.py");
    CHECK_STR(t.entries[1].path, "lib");
    CHECK_EQ(t.entries[1].type, ESP01_ENTRY_DIR);
    CHECK_STR(t.entries[2].path, "lib-z");
    CHECK_STR(t.entries[3].path, "lib/x");
    CHECK_STR(t.entries[4].path, "lib/x/y.py");
    CHECK_EQ(esp01_tree_bytes(&t), 2);
    /* idempotent */
    CHECK_EQ(esp01_tree_normalize(&t, &e), 0);
    CHECK_EQ(t.count, 5);
    esp01_tree_free(&t);
}

TEST(file_as_parent_is_refused)
{
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err e;
    CHECK_EQ(esp01_tree_add_file(&t, "lib", (const uint8_t *)"x", 1, &e), 0);
    CHECK_EQ(esp01_tree_add_file(&t, "lib/a.py", (const uint8_t *)"x", 1, &e), 0);
    CHECK_EQ(esp01_tree_normalize(&t, &e), ESP01_E_EXISTS);
    CHECK_EQ(esp01_tree_add_file(&t, "lib", NULL, 0, &e), ESP01_E_EXISTS);
    esp01_tree_free(&t);
}

TEST(bounded_reads)
{
    const uint8_t b[5] = {1, 2, 3, 4, 5};
    esp01_rd r = esp01_rd_init(b, sizeof b);
    CHECK_EQ(esp01_rd_le32(&r), 0x04030201);
    CHECK(!r.bad);
    CHECK_EQ(esp01_rd_le16(&r), 0); /* only one byte left */
    CHECK(r.bad);
    CHECK(!esp01_in_range(5, 4, 2));
    CHECK(!esp01_in_range(5, 6, 0));
    CHECK(!esp01_in_range(SIZE_MAX, 2, SIZE_MAX));
    CHECK(esp01_in_range(5, 5, 0));
}

TEST(digests_match_known_values)
{
    uint8_t d[32];
    char hex[65];
    esp01_sha256((const uint8_t *)"", 0, d);
    esp01_hex(d, 32, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    esp01_md5((const uint8_t *)"abc", 3, d);
    esp01_hex(d, 16, hex);
    CHECK_STR(hex, "900150983cd24fb0d6963f7d28e17f72");
    CHECK_EQ(esp01_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926);
}

int main(void)
{
    RUN(path_rules);
    RUN(normalize_adds_parents_in_order);
    RUN(file_as_parent_is_refused);
    RUN(bounded_reads);
    RUN(digests_match_known_values);
    CHECK_DONE();
}
