#include "check.h"
#include "manifest.h"

#include "util/bytes.h"
#include "esp01/fileio.h"
#include "esp01/fs.h"
#include "esp01/littlefs.h"
#include "esp01/tree.h"

#define BS 4096u

static uint8_t *load_fixture(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fixtures/fs/%s", check_shared(), name);
    uint8_t *buf = NULL;
    esp01_err err;
    if (esp01_read_file(path, 1u << 24, &buf, len, &err) < 0)
        return NULL;
    return buf;
}

/* Deterministic test bytes that differ per file and per position. */
static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n ? n : 1);
    uint32_t x = 2463534242u ^ seed;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    return p;
}

static int add_pattern(esp01_tree *t, const char *path, size_t n, unsigned seed)
{
    uint8_t *p = pattern(n, seed);
    esp01_err err;
    int rc = esp01_tree_add_file(t, path, p, n, &err);
    free(p);
    return rc;
}

/*
 * Write `in`, read it back, and compare every entry (including implied
 * parent directories) with what went in.
 */
static void roundtrip(esp01_tree *in, uint32_t blocks)
{
    esp01_lfs_config cfg;
    esp01_lfs_config_micropython(&cfg, blocks);
    size_t len = (size_t)blocks * BS;
    uint8_t *img = malloc(len);
    esp01_err err;
    esp01_fs_usage u;
    int rc = esp01_lfs_write(&cfg, in, img, len, &u, &err);
    CHECK_EQ(rc, 0);
    if (rc) {
        printf("# %s\n", err.msg);
        free(img);
        return;
    }
    CHECK_EQ(esp01_lfs_check(img, len, NULL, NULL, NULL, &err), 0);
    esp01_fs_usage u2;
    uint32_t distinct = 0;
    CHECK_EQ(esp01_lfs_usage(img, len, &u2, &distinct, &err), 0);
    CHECK_EQ(u2.blocks_used, u.blocks_used);
    /* Allocation is sequential: everything past the used blocks is erased.
       (blocks_used counts each subdirectory's pair twice, as statvfs.) */
    CHECK_EQ(esp01_tree_normalize(in, &err), 0);
    size_t subdirs = 0;
    for (size_t i = 0; i < in->count; i++)
        subdirs += in->entries[i].type == ESP01_ENTRY_DIR;
    CHECK_EQ(u.blocks_used, distinct + 2 * subdirs);
    for (size_t i = (size_t)distinct * BS; i < len; i++)
        if (img[i] != 0xff) {
            CHECK(img[i] == 0xff);
            break;
        }
    esp01_tree out = ESP01_TREE_INIT;
    CHECK_EQ(esp01_lfs_read(img, len, &out, &err), 0);
    CHECK_EQ(esp01_tree_normalize(in, &err), 0);
    CHECK_EQ(esp01_tree_normalize(&out, &err), 0);
    CHECK_EQ(out.count, in->count);
    for (size_t i = 0; i < in->count && i < out.count; i++) {
        const esp01_entry *a = &in->entries[i], *b = &out.entries[i];
        CHECK_STR(b->path, a->path);
        CHECK_EQ(b->type, a->type);
        CHECK_EQ(b->size, a->size);
        CHECK(a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
        CHECK_EQ(b->has_mtime, a->has_mtime);
        CHECK(b->mtime_ns == a->mtime_ns);
    }
    esp01_tree_free(&out);
    free(img);
}

TEST(roundtrip_size_boundaries)
{
    esp01_tree t = ESP01_TREE_INIT;
    static const size_t sizes[] = {0, 1, 127, 128, 129, 4095, 4096, 4097,
                                   4096 + 4088, 4096 + 4088 + 1, 3 * 4096,
                                   150000, 153600};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%zu.bin", sizes[i]);
        CHECK_EQ(add_pattern(&t, name, sizes[i], (unsigned)i), 0);
    }
    roundtrip(&t, 250);
    esp01_tree_free(&t);
}

/* A CTZ skip-list as long as the partition allows: 245 blocks, whose
   heads carry up to 8 pointers. */
TEST(roundtrip_ctz_list_filling_the_partition)
{
    esp01_tree t = ESP01_TREE_INIT;
    CHECK_EQ(add_pattern(&t, "all.bin", 245u * 4096 - 245 * 8, 9), 0);
    roundtrip(&t, 250);
    esp01_tree_free(&t);
}

TEST(roundtrip_hundred_entries_one_dir_splits)
{
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err err;
    for (unsigned i = 0; i < 100; i++) {
        char name[64];
        snprintf(name, sizeof name, "lib/module_%03u.py", 99 - i);
        uint8_t *p = pattern(i * 3 % 200, i);
        CHECK_EQ(esp01_tree_add_file_mtime(&t, name, p, i * 3 % 200,
                                           1700000000000000000ull + i, &err),
                 0);
        free(p);
    }
    roundtrip(&t, 98);
    esp01_tree_free(&t);
}

TEST(roundtrip_root_with_300_entries)
{
    esp01_tree t = ESP01_TREE_INIT;
    for (unsigned i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "r%03u", i);
        CHECK_EQ(add_pattern(&t, name, i % 100, i), 0);
    }
    roundtrip(&t, 98);
    esp01_tree_free(&t);
}

TEST(roundtrip_long_names_deep_nesting_prefix_names)
{
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err err;
    char name[300];
    memset(name, 'n', 255);
    name[255] = '\0';
    CHECK_EQ(add_pattern(&t, name, 10, 1), 0);
    char path[1200] = "";
    for (int i = 0; i < 60; i++)
        strcat(path, i ? "/d" : "d");
    strcat(path, "/leaf.txt");
    CHECK_EQ(add_pattern(&t, path, 300, 2), 0);
    /* Names sharing a prefix: littlefs orders the longer one first. */
    CHECK_EQ(add_pattern(&t, "main", 1, 3), 0);
    CHECK_EQ(add_pattern(&t, "main.py", 2, 4), 0);
    CHECK_EQ(add_pattern(&t, "main.py.bak", 3, 5), 0);
    CHECK_EQ(add_pattern(&t, "a-b", 3, 6), 0);
    CHECK_EQ(add_pattern(&t, "a/b", 3, 7), 0);
    CHECK_EQ(esp01_tree_add_dir(&t, "empty", &err), 0);
    roundtrip(&t, 250);
    esp01_tree_free(&t);
}

TEST(roundtrip_empty_tree)
{
    esp01_tree t = ESP01_TREE_INIT;
    roundtrip(&t, 2);
    esp01_tree_free(&t);
}

TEST(deterministic_and_order_independent)
{
    esp01_tree a = ESP01_TREE_INIT, b = ESP01_TREE_INIT;
    const char *names[] = {"main.py", "lib/x.py", "boot.py", "lib/big.bin"};
    size_t sizes[] = {50, 200, 98, 9000};
    for (int i = 0; i < 4; i++)
        add_pattern(&a, names[i], sizes[i], (unsigned)i);
    for (int i = 3; i >= 0; i--)
        add_pattern(&b, names[i], sizes[i], (unsigned)i);
    esp01_lfs_config cfg;
    esp01_lfs_config_micropython(&cfg, 98);
    size_t len = 98 * BS;
    uint8_t *x = malloc(len), *y = malloc(len), *z = malloc(len);
    esp01_err err;
    CHECK_EQ(esp01_lfs_write(&cfg, &a, x, len, NULL, &err), 0);
    CHECK_EQ(esp01_lfs_write(&cfg, &a, y, len, NULL, &err), 0);
    CHECK_EQ(esp01_lfs_write(&cfg, &b, z, len, NULL, &err), 0);
    CHECK(memcmp(x, y, len) == 0);
    CHECK(memcmp(x, z, len) == 0);
    free(x);
    free(y);
    free(z);
    esp01_tree_free(&a);
    esp01_tree_free(&b);
}

/* Block 0 is what lfs_format leaves there: MicroPython's is the same. */
TEST(superblock_block_matches_micropython_fixture)
{
    static const struct {
        const char *image;
        uint32_t blocks;
    } fx[] = {{"lfs2-esp01-fresh.img", 98}, {"lfs2-esp01-project.img", 98},
              {"lfs2-2m-many.img", 250}};
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        uint8_t *ref = load_fixture(fx[i].image, &len);
        CHECK(ref != NULL);
        if (!ref)
            return;
        CHECK_EQ(len, (size_t)fx[i].blocks * BS);
        esp01_tree t = ESP01_TREE_INIT;
        esp01_lfs_config cfg;
        esp01_lfs_config_micropython(&cfg, fx[i].blocks);
        uint8_t *img = malloc(len);
        esp01_err err;
        CHECK_EQ(esp01_lfs_write(&cfg, &t, img, len, NULL, &err), 0);
        CHECK(memcmp(img, ref, BS) == 0);
        /* Block 1 starts with the same superblock entry (after the rev). */
        CHECK(memcmp(img + BS + 4, ref + BS + 4, 0x2c - 4) == 0);
        esp01_lfs_super s1, s2;
        CHECK_EQ(esp01_lfs_probe(img, len, &s1, &err), 0);
        CHECK_EQ(esp01_lfs_probe(ref, len, &s2, &err), 0);
        CHECK(memcmp(&s1, &s2, sizeof s1) == 0);
        CHECK_EQ(s2.version, 0x00020001);
        CHECK_EQ(s2.name_max, 255);
        free(img);
        free(ref);
    }
}

static void count_problem(void *ctx, const char *msg)
{
    (void)msg;
    (*(int *)ctx)++;
}

/*
 * Every littlefs image in manifest.json, as real MicroPython wrote it
 * (fresh, after long use, one cut by a power failure): read back exactly
 * as listed, checked clean, counted as its os.statvfs counted; and the
 * same files written by us take no more blocks than there.
 */
TEST(manifest_littlefs_images)
{
    manifest m;
    CHECK_EQ(manifest_load(&m, check_shared()), 0);
    size_t seen = 0;
    for (size_t i = 0; i < m.count; i++) {
        const mf_image *im = &m.images[i];
        if (strcmp(im->fs, "lfs2") != 0)
            continue;
        seen++;
        size_t len;
        uint8_t *buf = manifest_image(im, check_shared(), &len);
        CHECK(buf != NULL);
        if (!buf)
            continue;
        esp01_err err;
        esp01_lfs_super sb;
        CHECK_EQ(esp01_lfs_probe(buf, len, &sb, &err), 0);
        CHECK_EQ(sb.block_count, im->block_count);
        CHECK_EQ(sb.block_size, im->block_size);
        esp01_tree t = ESP01_TREE_INIT;
        int rc = esp01_lfs_read(buf, len, &t, &err);
        if (rc)
            printf("# %s: %s\n", im->image, err.msg);
        CHECK_EQ(rc, 0);
        CHECK_EQ(manifest_compare(im, &t), 0);
        int problems = 0;
        CHECK_EQ(esp01_lfs_check(buf, len, count_problem, NULL, &problems,
                                 &err), 0);
        CHECK_EQ(problems, 0);
        esp01_fs_usage u;
        uint32_t distinct = 0;
        CHECK_EQ(esp01_lfs_usage(buf, len, &u, &distinct, &err), 0);
        CHECK_EQ((long long)u.blocks_total - u.blocks_used,
                 im->statvfs_free_blocks);
        CHECK(distinct > 0 && distinct <= u.blocks_used);
        esp01_lfs_config cfg;
        esp01_lfs_config_micropython(&cfg, (uint32_t)im->block_count);
        uint8_t *img = malloc(len);
        esp01_fs_usage mine;
        CHECK_EQ(esp01_lfs_write(&cfg, &t, img, len, &mine, &err), 0);
        CHECK(mine.blocks_used <= u.blocks_used);
        free(img);
        esp01_tree_free(&t);
        free(buf);
    }
    CHECK(seen > 0);
    printf("# %zu littlefs images in manifest.json\n", seen);
    manifest_free(&m);
}

struct owners {
    uint32_t count;
    uint8_t *kind;        /* 0 free, 1 metadata, 2 data, 3 claimed twice */
    uint32_t data_blocks;
    bool out_of_range;
};

static void note_owner(void *ctx, uint32_t block, bool metadata,
                       const char *path)
{
    struct owners *o = ctx;
    (void)path;
    if (block >= o->count) {
        o->out_of_range = true;
        return;
    }
    uint8_t k = metadata ? 1 : 2;
    if (o->kind[block] && !(metadata && o->kind[block] == 1))
        k = 3;
    o->kind[block] = k;
    if (!metadata)
        o->data_blocks++;
}

/* Block owners (what `esp01 verify` names differing sectors by) cover the
 * blocks in use exactly: every file's blocks once, every pair's blocks. */
TEST(owners_cover_the_blocks_in_use)
{
    manifest m;
    CHECK_EQ(manifest_load(&m, check_shared()), 0);
    for (size_t i = 0; i < m.count; i++) {
        const mf_image *im = &m.images[i];
        if (strcmp(im->fs, "lfs2") != 0)
            continue;
        size_t len;
        uint8_t *buf = manifest_image(im, check_shared(), &len);
        if (!buf)
            continue;
        esp01_err err;
        struct owners o = {(uint32_t)im->block_count, NULL, 0, false};
        o.kind = calloc(o.count, 1);
        CHECK_EQ(esp01_lfs_owners(buf, len, note_owner, &o, &err), 0);
        CHECK(!o.out_of_range);
        uint32_t owned = 0, twice = 0;
        for (uint32_t b = 0; b < o.count; b++) {
            owned += o.kind[b] != 0;
            twice += o.kind[b] == 3;
        }
        CHECK_EQ(twice, 0);
        uint32_t want_data = 0;
        esp01_lfs_config cfg;
        esp01_lfs_config_micropython(&cfg, o.count);
        for (size_t k = 0; k < im->nentries; k++)
            if (!im->entries[k].is_dir)
                want_data += esp01_lfs_file_blocks(&cfg, (size_t)im->entries[k].size);
        CHECK_EQ(o.data_blocks, want_data);
        esp01_fs_usage u;
        uint32_t distinct = 0;
        CHECK_EQ(esp01_lfs_usage(buf, len, &u, &distinct, &err), 0);
        /* What a power cut orphaned is in use but nobody's. */
        if (strstr(im->image, "powercut"))
            CHECK(owned <= distinct);
        else
            CHECK_EQ(owned, distinct);
        free(o.kind);
        free(buf);
    }
    manifest_free(&m);
}

TEST(too_big_is_nospace)
{
    esp01_tree t = ESP01_TREE_INIT;
    add_pattern(&t, "huge.bin", 100000, 1);
    esp01_lfs_config cfg;
    esp01_lfs_config_micropython(&cfg, 10);
    uint8_t *img = malloc(10 * BS);
    memset(img, 0x5a, 10 * BS);
    esp01_err err;
    CHECK_EQ(esp01_lfs_write(&cfg, &t, img, 10 * BS, NULL, &err),
             ESP01_E_NOSPACE);
    CHECK(strstr(err.msg, "partition has 10") != NULL);
    free(img);
    esp01_tree_free(&t);
}

TEST(file_where_dir_needed_is_refused)
{
    esp01_tree t = ESP01_TREE_INIT;
    add_pattern(&t, "lib", 3, 1);
    add_pattern(&t, "lib/x.py", 3, 2);
    esp01_lfs_config cfg;
    esp01_lfs_config_micropython(&cfg, 10);
    uint8_t *img = malloc(10 * BS);
    esp01_err err;
    CHECK_EQ(esp01_lfs_write(&cfg, &t, img, 10 * BS, NULL, &err),
             ESP01_E_EXISTS);
    CHECK(strstr(err.msg, "'lib'") != NULL);
    CHECK_EQ(esp01_lfs_write(&cfg, &t, img, 9 * BS, NULL, &err), ESP01_E_INVAL);
    free(img);
    esp01_tree_free(&t);
}

/* Every single-byte change in the metadata gives a result or a clean
   error, never a crash (the sanitizer build watches the reads). */
TEST(flipped_bytes_never_crash)
{
    size_t len;
    uint8_t *ref = load_fixture("lfs2-esp01-project.img", &len);
    CHECK(ref != NULL);
    if (!ref)
        return;
    const uint32_t blocks[] = {0, 1, 26, 27, 28};
    for (size_t k = 0; k < 5; k++)
        for (uint32_t off = 0; off < 700; off++) {
            size_t at = (size_t)blocks[k] * BS + off;
            ref[at] ^= 0x5a;
            esp01_tree t = ESP01_TREE_INIT;
            esp01_err err;
            int rc = esp01_lfs_read(ref, len, &t, &err);
            CHECK(rc == 0 || (rc < 0 && err.msg[0]));
            esp01_tree_free(&t);
            CHECK(esp01_lfs_check(ref, len, NULL, NULL, NULL, &err) >= 0 ||
                  err.msg[0]);
            ref[at] ^= 0x5a;
        }
    free(ref);
}

/* The same for an image MicroPython used for a long time: a few flips in
   every block, metadata and data alike. */
TEST(flipped_bytes_in_a_used_image_never_crash)
{
    size_t len;
    uint8_t *ref = load_fixture("lfs2-used-esp01-b.img", &len);
    CHECK(ref != NULL);
    if (!ref)
        return;
    uint32_t x = 12345;
    for (size_t b = 0; b < len / BS; b++)
        for (int k = 0; k < 3; k++) {
            x = x * 1103515245u + 12345u;
            size_t at = b * BS + (x >> 8) % 1024;
            uint8_t bit = (uint8_t)(1u << (x >> 4 & 7));
            ref[at] ^= bit;
            esp01_tree t = ESP01_TREE_INIT;
            esp01_err err;
            int rc = esp01_lfs_read(ref, len, &t, &err);
            CHECK(rc == 0 || (rc < 0 && err.msg[0]));
            esp01_tree_free(&t);
            CHECK(esp01_lfs_check(ref, len, NULL, NULL, NULL, &err) >= 0 ||
                  err.msg[0]);
            ref[at] ^= bit;
        }
    free(ref);
}

TEST(bad_crc_and_ctz_damage_reported)
{
    size_t len;
    uint8_t *ref = load_fixture("lfs2-esp01-project.img", &len);
    CHECK(ref != NULL);
    if (!ref)
        return;
    esp01_err err;
    /* main.py's head block 27 points at block 26; send it past the end. */
    esp01_put_le32(ref + 27 * BS, 5000);
    esp01_tree t = ESP01_TREE_INIT;
    CHECK_EQ(esp01_lfs_read(ref, len, &t, &err), ESP01_E_FORMAT);
    CHECK(strstr(err.msg, "main.py") && strstr(err.msg, "past the end"));
    esp01_tree_free(&t);
    int n = 0;
    CHECK_EQ(esp01_lfs_check(ref, len, count_problem, NULL, &n, &err), 1);
    CHECK_EQ(n, 1);
    esp01_put_le32(ref + 27 * BS, 26);
    /* The lib directory's pair (block 28) loses its only commit. */
    ref[28 * BS + 10] ^= 0xff;
    n = 0;
    CHECK(esp01_lfs_check(ref, len, count_problem, NULL, &n, &err) >= 1);
    CHECK(n >= 1);
    CHECK_EQ(esp01_lfs_read(ref, len, &t, &err), ESP01_E_FORMAT);
    CHECK(strstr(err.msg, "no valid commit") != NULL);
    esp01_tree_free(&t);
    free(ref);
}

TEST(not_littlefs)
{
    uint8_t buf[3 * BS];
    memset(buf, 0xff, sizeof buf);
    esp01_err err;
    esp01_tree t = ESP01_TREE_INIT;
    CHECK_EQ(esp01_lfs_read(buf, sizeof buf, &t, &err), ESP01_E_NOTFOUND);
    CHECK(strstr(err.msg, "superblock") != NULL);
    CHECK_EQ(esp01_fs_detect(buf, sizeof buf), ESP01_FS_NONE);
    CHECK_EQ(esp01_lfs_read(buf, 10, &t, &err), ESP01_E_NOTFOUND);
    esp01_tree_free(&t);
}

TEST(truncated_image_is_refused)
{
    size_t len;
    uint8_t *ref = load_fixture("lfs2-esp01-project.img", &len);
    CHECK(ref != NULL);
    if (!ref)
        return;
    esp01_err err;
    esp01_tree t = ESP01_TREE_INIT;
    CHECK_EQ(esp01_lfs_read(ref, 20 * BS, &t, &err), ESP01_E_FORMAT);
    CHECK(strstr(err.msg, "98 blocks") != NULL);
    esp01_tree_free(&t);
    free(ref);
}

TEST(fs_facade)
{
    esp01_tree t = ESP01_TREE_INIT;
    add_pattern(&t, "main.py", 40, 1);
    uint8_t *img = malloc(98 * BS);
    esp01_err err;
    esp01_fs_usage u;
    CHECK_EQ(esp01_fs_write(ESP01_FS_LITTLEFS, &t, 98, img, 98 * BS, &u, &err),
             0);
    CHECK_EQ(u.blocks_used, 2); /* the root pair; main.py is inline */
    CHECK_EQ(u.blocks_total, 98);
    CHECK_EQ(esp01_fs_detect(img, 98 * BS), ESP01_FS_LITTLEFS);
    CHECK_STR(esp01_fs_name(ESP01_FS_LITTLEFS), "littlefs");
    esp01_tree out = ESP01_TREE_INIT;
    CHECK_EQ(esp01_fs_read(img, 98 * BS, &out, &err), 0);
    CHECK_EQ(out.count, 1);
    esp01_tree_free(&out);
    free(img);
    esp01_tree_free(&t);
}

int main(void)
{
    RUN(roundtrip_size_boundaries);
    RUN(roundtrip_ctz_list_filling_the_partition);
    RUN(roundtrip_hundred_entries_one_dir_splits);
    RUN(roundtrip_root_with_300_entries);
    RUN(roundtrip_long_names_deep_nesting_prefix_names);
    RUN(roundtrip_empty_tree);
    RUN(deterministic_and_order_independent);
    RUN(superblock_block_matches_micropython_fixture);
    RUN(manifest_littlefs_images);
    RUN(owners_cover_the_blocks_in_use);
    RUN(too_big_is_nospace);
    RUN(file_where_dir_needed_is_refused);
    RUN(flipped_bytes_never_crash);
    RUN(flipped_bytes_in_a_used_image_never_crash);
    RUN(bad_crc_and_ctz_damage_reported);
    RUN(not_littlefs);
    RUN(truncated_image_is_refused);
    RUN(fs_facade);
    CHECK_DONE();
}
