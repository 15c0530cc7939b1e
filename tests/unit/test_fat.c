#include "check.h"
#include "manifest.h"

#include "util/bytes.h"
#include "esp01/fat.h"
#include "esp01/fileio.h"
#include "esp01/hash.h"
#include "esp01/tree.h"

#define FIXTURE "fat-2m-project.img"

static uint8_t *load_shared(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/fs/%s", check_shared(), rel);
    uint8_t *buf = NULL;
    esp01_err e;
    if (esp01_read_file(path, (size_t)64 << 20, &buf, len, &e) < 0) {
        printf("# cannot read %s: %s\n", path, e.msg);
        return NULL;
    }
    return buf;
}

static void count_issue(void *ctx, const char *msg)
{
    printf("# %s\n", msg);
    (*(int *)ctx)++;
}

/*
 * Every FAT image in manifest.json, as real MicroPython wrote it (fresh and
 * after long use): read back exactly as listed, checked clean, its free
 * clusters what os.statvfs said; and the same files written by us take no
 * more clusters than there.
 */
TEST(manifest_fat_images)
{
    manifest m;
    CHECK_EQ(manifest_load(&m, check_shared()), 0);
    size_t seen = 0;
    for (size_t i = 0; i < m.count; i++) {
        const mf_image *im = &m.images[i];
        if (strcmp(im->fs, "fat") != 0)
            continue;
        seen++;
        size_t len;
        uint8_t *img = manifest_image(im, check_shared(), &len);
        CHECK(img != NULL);
        if (!img)
            continue;
        CHECK_EQ(len, (size_t)im->block_count * im->block_size);
        esp01_tree t = ESP01_TREE_INIT;
        esp01_err e;
        int rc = esp01_fat_read(img, len, &t, &e);
        if (rc)
            printf("# %s: %s\n", im->image, e.msg);
        CHECK_EQ(rc, 0);
        CHECK_EQ(manifest_compare(im, &t), 0);
        int issues = 0;
        CHECK_EQ(esp01_fat_check(img, len, count_issue, &issues, &e), 0);
        CHECK_EQ(issues, 0);
        esp01_fs_usage u;
        CHECK_EQ(esp01_fat_usage(img, len, &u, &e), 0);
        CHECK_EQ(u.block_size, im->block_size);
        CHECK_EQ(u.blocks_total - u.blocks_used, im->statvfs_free_blocks);
        uint32_t blocks = (uint32_t)im->block_count;
        uint8_t *ours = malloc(len);
        esp01_fs_usage mine;
        CHECK_EQ(esp01_fat_write(&t, blocks, ours, len, &mine, &e), 0);
        CHECK(mine.blocks_used <= u.blocks_used);
        CHECK_EQ(mine.blocks_total, u.blocks_total);
        free(ours);
        esp01_tree_free(&t);
        free(img);
    }
    CHECK(seen > 0);
    printf("# %zu FAT images in manifest.json\n", seen);
    manifest_free(&m);
}

TEST(empty_format_matches_micropython_mkfs)
{
    size_t len;
    uint8_t *img = load_shared(FIXTURE, &len);
    CHECK(img != NULL);
    if (!img)
        return;
    uint32_t blocks = (uint32_t)(len / 4096);
    uint8_t *ours = malloc(len);
    esp01_tree empty = ESP01_TREE_INIT;
    esp01_fs_usage u;
    esp01_err e;
    CHECK_EQ(esp01_fat_write(&empty, blocks, ours, len, &u, &e), 0);
    CHECK_EQ(u.blocks_used, 0);
    /* Boot sector: every byte but the volume serial (FatFs takes the clock). */
    for (size_t i = 0; i < 4096; i++)
        if (i < 39 || i > 42)
            CHECK_EQ(ours[i], img[i]);
    CHECK_EQ(esp01_le32(ours + 39), ESP01_FAT_SERIAL);
    /* FAT: entries 0 and 1 as f_mkfs sets them. */
    CHECK_EQ(memcmp(ours + 4096, img + 4096, 3), 0);
    for (size_t i = 3; i < 4096; i++)
        CHECK_EQ(ours[4096 + i], 0);
    /* Root directory zeroed, data area erased. */
    for (size_t i = 2 * 4096; i < 6 * 4096; i++)
        CHECK_EQ(ours[i], 0);
    for (size_t i = 6 * 4096; i < len; i++)
        CHECK_EQ(ours[i], 0xFF);
    free(ours);
    free(img);
}

TEST(geometry_follows_fatfs_mkfs)
{
    esp01_fat_geometry g;
    esp01_err e;
    /* 250 blocks: the fixture (FAT12, 1 sector per cluster, 1 FAT sector). */
    CHECK_EQ(esp01_fat_plan(250, &g, &e), 0);
    CHECK_EQ(g.fat_bits, 12);
    CHECK_EQ(g.sectors_per_cluster, 1);
    CHECK_EQ(g.fat_sectors, 1);
    CHECK_EQ(g.data_start, 6);
    CHECK_EQ(g.cluster_count, 244);
    /* 16 MiB flash: (16M - 20K)/4K - 256 = 3835 blocks, 2 FAT sectors. */
    CHECK_EQ(esp01_fat_plan(3835, &g, &e), 0);
    CHECK_EQ(g.fat_bits, 12);
    CHECK_EQ(g.fat_sectors, 2);
    CHECK_EQ(g.cluster_count, 3828);
    /* 8192 blocks: 2-sector clusters, FAT16 with 4092 clusters. */
    CHECK_EQ(esp01_fat_plan(8192, &g, &e), 0);
    CHECK_EQ(g.fat_bits, 16);
    CHECK_EQ(g.sectors_per_cluster, 2);
    CHECK_EQ(g.fat_sectors, 3);
    CHECK_EQ(g.cluster_count, 4092);
    /* f_mkfs refuses fewer than 50 sectors. */
    CHECK_EQ(esp01_fat_plan(49, &g, &e), ESP01_E_NOSPACE);
    CHECK_EQ(esp01_fat_plan(50, &g, &e), 0);
}

static uint8_t *write_tree(const esp01_tree *t, uint32_t blocks, int *rc,
                           esp01_fs_usage *u, esp01_err *e)
{
    uint8_t *img = malloc((size_t)blocks * 4096);
    *rc = esp01_fat_write(t, blocks, img, (size_t)blocks * 4096, u, e);
    return img;
}

/* Raw 32-byte root directory entries of an image written by us. */
static const uint8_t *root_entry(const uint8_t *img, size_t i)
{
    return img + 2 * 4096 + i * 32;
}

TEST(short_names_as_fatfs_makes_them)
{
    static const struct {
        const char *name;
        const char *sfn;
        uint8_t nt;
        int lfn_entries;
    } cases[] = {
        {"MAIN.PY", "MAIN    PY ", 0x00, 0},
        {"Mixed.py", "MIXED   PY ", 0x00, 1},
        {"archive.tar.gz", "ARCHIV~1GZ ", 0x00, 2},
        {"boot.py", "BOOT    PY ", 0x18, 0},
        {"data.JSON", "DATA~1  JSO", 0x00, 1},
        {"lower.TXT", "LOWER   TXT", 0x08, 0},
        {"x+y=z.py", "X_Y_Z~1 PY ", 0x00, 1},
    };
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err e;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_EQ(esp01_tree_add_file(&t, cases[i].name, (const uint8_t *)"x", 1, &e), 0);
    int rc;
    esp01_fs_usage u;
    uint8_t *img = write_tree(&t, 60, &rc, &u, &e);
    CHECK_EQ(rc, 0);
    size_t slot = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (int k = 0; k < cases[i].lfn_entries; k++)
            CHECK_EQ(root_entry(img, slot + (size_t)k)[11], 0x0F);
        slot += (size_t)cases[i].lfn_entries;
        const uint8_t *d = root_entry(img, slot++);
        CHECK_EQ(memcmp(d, cases[i].sfn, 11), 0);
        CHECK_EQ(d[12], cases[i].nt);
        CHECK_EQ(d[11], 0x20);
    }
    free(img);
    esp01_tree_free(&t);
}

TEST(numbered_tails_count_then_hash)
{
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err e;
    char name[64];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "verylongname%d.py", i);
        CHECK_EQ(esp01_tree_add_file(&t, name, NULL, 0, &e), 0);
    }
    int rc;
    esp01_fs_usage u;
    uint8_t *img = write_tree(&t, 60, &rc, &u, &e);
    CHECK_EQ(rc, 0);
    char seen[8][12];
    for (int i = 0; i < 8; i++) {
        /* each name takes 2 long entries + 1 short */
        const uint8_t *d = root_entry(img, (size_t)i * 3 + 2);
        memcpy(seen[i], d, 11);
        seen[i][11] = '\0';
        if (i < 5) {
            char want[12] = "VERYLO~0PY ";
            want[7] = (char)('1' + i);
            CHECK_STR(seen[i], want);
        } else {
            /* "~" and four hex digits after the first three letters */
            CHECK_EQ(memcmp(seen[i], "VER~", 4), 0);
            for (int k = 4; k < 8; k++)
                CHECK(strchr("0123456789ABCDEF", seen[i][k]) != NULL);
        }
        for (int j = 0; j < i; j++)
            CHECK(strcmp(seen[i], seen[j]) != 0);
    }
    free(img);
    esp01_tree_free(&t);
}

TEST(names_fat_cannot_hold_are_refused)
{
    esp01_err e;
    int rc;
    esp01_fs_usage u;
    const char *same[][2] = {{"Readme.txt", "README.TXT"}, {"lib/A.py", "lib/a.py"}};
    for (size_t i = 0; i < 2; i++) {
        esp01_tree t = ESP01_TREE_INIT;
        CHECK_EQ(esp01_tree_add_file(&t, same[i][0], NULL, 0, &e), 0);
        CHECK_EQ(esp01_tree_add_file(&t, same[i][1], NULL, 0, &e), 0);
        free(write_tree(&t, 60, &rc, &u, &e));
        CHECK_EQ(rc, ESP01_E_EXISTS);
        CHECK(strstr(e.msg, "same name on FAT") != NULL);
        esp01_tree_free(&t);
    }
    const char *bad[] = {"a:b", "x.", "caf\xc3\xa9.py", "q?", "back\\slash"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        esp01_tree t = ESP01_TREE_INIT;
        CHECK_EQ(esp01_tree_add_file(&t, bad[i], NULL, 0, &e), 0);
        free(write_tree(&t, 60, &rc, &u, &e));
        CHECK(rc == ESP01_E_INVAL || rc == ESP01_E_UNSUPPORTED);
        CHECK(strstr(e.msg, bad[i]) != NULL);
        esp01_tree_free(&t);
    }
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static void check_same(const esp01_tree *want, const esp01_tree *got)
{
    CHECK_EQ(got->count, want->count);
    for (size_t i = 0; i < want->count; i++) {
        const esp01_entry *w = &want->entries[i];
        const esp01_entry *g = esp01_tree_find(got, w->path);
        CHECK(g != NULL);
        if (!g) {
            printf("# missing %s\n", w->path);
            continue;
        }
        CHECK_EQ(g->type, w->type);
        CHECK_EQ(g->size, w->size);
        if (g->size == w->size && w->size)
            CHECK(memcmp(g->data, w->data, w->size) == 0);
    }
}

TEST(round_trip_generated_tree)
{
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err e;
    static uint8_t data[150000];
    fill(data, sizeof data, 7);
    const size_t sizes[] = {0, 1, 128, 129, 4095, 4096, 4097, 8192, 150000};
    char name[300];
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        snprintf(name, sizeof name, "sizes/file_%zu.bin", sizes[i]);
        CHECK_EQ(esp01_tree_add_file(&t, name, data, sizes[i], &e), 0);
    }
    memset(name, 'n', 252);
    memcpy(name + 252, ".py", 4);
    CHECK_EQ(esp01_tree_add_file(&t, name, data, 10, &e), 0);
    char deep[1024] = "d0";
    for (int i = 1; i < 40; i++) {
        size_t l = strlen(deep);
        snprintf(deep + l, sizeof deep - l, "/Level%d", i);
    }
    strcat(deep, "/leaf.txt");
    CHECK_EQ(esp01_tree_add_file(&t, deep, data, 33, &e), 0);
    for (int i = 0; i < 150; i++) {
        snprintf(name, sizeof name, "many/Entry number %03d.txt", i);
        CHECK_EQ(esp01_tree_add_file(&t, name, data + i, (size_t)i, &e), 0);
    }
    CHECK_EQ(esp01_tree_add_dir(&t, "empty dir", &e), 0);
    CHECK_EQ(esp01_tree_add_file(&t, "MiXeD.Py", data, 5, &e), 0);
    CHECK_EQ(esp01_tree_add_file(&t, ".hidden", data, 5, &e), 0);
    CHECK_EQ(esp01_tree_normalize(&t, &e), 0);
    int rc;
    esp01_fs_usage u;
    uint8_t *img = write_tree(&t, 500, &rc, &u, &e);
    CHECK_EQ(rc, 0);
    esp01_tree back = ESP01_TREE_INIT;
    CHECK_EQ(esp01_fat_read(img, 500 * 4096, &back, &e), 0);
    check_same(&t, &back);
    CHECK_EQ(esp01_fat_check(img, 500 * 4096, NULL, NULL, &e), 0);
    esp01_fs_usage again;
    CHECK_EQ(esp01_fat_usage(img, 500 * 4096, &again, &e), 0);
    CHECK_EQ(again.blocks_used, u.blocks_used);
    /* Deterministic: same tree, same bytes. */
    uint8_t *img2 = write_tree(&t, 500, &rc, &u, &e);
    CHECK(memcmp(img, img2, 500 * 4096) == 0);
    free(img2);
    free(img);
    esp01_tree_free(&back);
    esp01_tree_free(&t);
}

TEST(mtime_is_kept_to_two_seconds)
{
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err e;
    /* 2024-05-06 07:08:10 UTC */
    uint64_t ns = 1714979290ull * 1000000000ull;
    CHECK_EQ(esp01_tree_add_file_mtime(&t, "t.py", (const uint8_t *)"x", 1, ns + 1, &e), 0);
    CHECK_EQ(esp01_tree_add_file(&t, "u.py", (const uint8_t *)"x", 1, &e), 0);
    int rc;
    esp01_fs_usage u;
    uint8_t *img = write_tree(&t, 60, &rc, &u, &e);
    CHECK_EQ(rc, 0);
    /* date: (44 << 9) | (5 << 5) | 6; time: 7 << 11 | 8 << 5 | 5 */
    CHECK_EQ(esp01_le16(root_entry(img, 0) + 24), (44 << 9) | (5 << 5) | 6);
    CHECK_EQ(esp01_le16(root_entry(img, 0) + 22), (7 << 11) | (8 << 5) | 5);
    /* no mtime: 2000-01-01 00:00 */
    CHECK_EQ(esp01_le16(root_entry(img, 1) + 24), (20 << 9) | (1 << 5) | 1);
    esp01_tree back = ESP01_TREE_INIT;
    CHECK_EQ(esp01_fat_read(img, 60 * 4096, &back, &e), 0);
    CHECK_EQ(back.entries[0].mtime_ns, ns);
    CHECK_EQ(back.entries[1].mtime_ns, 946684800ull * 1000000000ull);
    free(img);
    esp01_tree_free(&back);
    esp01_tree_free(&t);
}

TEST(full_partition_and_overflow)
{
    esp01_fat_geometry g;
    esp01_err e;
    CHECK_EQ(esp01_fat_plan(60, &g, &e), 0);
    size_t room = (size_t)g.cluster_count * 4096;
    uint8_t *data = malloc(room + 1);
    fill(data, room + 1, 3);
    esp01_tree t = ESP01_TREE_INIT;
    CHECK_EQ(esp01_tree_add_file(&t, "all.bin", data, room, &e), 0);
    int rc;
    esp01_fs_usage u;
    uint8_t *img = write_tree(&t, 60, &rc, &u, &e);
    CHECK_EQ(rc, 0);
    CHECK_EQ(u.blocks_used, u.blocks_total);
    esp01_tree back = ESP01_TREE_INIT;
    CHECK_EQ(esp01_fat_read(img, 60 * 4096, &back, &e), 0);
    check_same(&t, &back);
    esp01_tree_free(&back);
    free(img);
    esp01_tree_free(&t);

    CHECK_EQ(esp01_tree_add_file(&t, "all.bin", data, room + 1, &e), 0);
    free(write_tree(&t, 60, &rc, &u, &e));
    CHECK_EQ(rc, ESP01_E_NOSPACE);
    CHECK(strstr(e.msg, "clusters") != NULL);
    esp01_tree_free(&t);

    /* The root directory holds 512 entries; these names take 3 each. */
    char name[64];
    for (int i = 0; i < 170; i++) {
        snprintf(name, sizeof name, "long file name %03d", i);
        CHECK_EQ(esp01_tree_add_file(&t, name, NULL, 0, &e), 0);
    }
    free(write_tree(&t, 60, &rc, &u, &e));
    CHECK_EQ(rc, 0);
    CHECK_EQ(esp01_tree_add_file(&t, "one more file name", NULL, 0, &e), 0);
    free(write_tree(&t, 60, &rc, &u, &e));
    CHECK_EQ(rc, ESP01_E_NOSPACE);
    CHECK(strstr(e.msg, "root directory") != NULL);
    esp01_tree_free(&t);
    free(data);
}

/* An image of the fixture tree to corrupt. */
static uint8_t *sample(size_t *len)
{
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err e;
    static uint8_t data[20000];
    fill(data, sizeof data, 9);
    esp01_tree_add_file(&t, "a.bin", data, 9000, &e);  /* clusters 2..4 */
    esp01_tree_add_file(&t, "b.bin", data, 5000, &e);  /* clusters 5..6 */
    esp01_tree_add_file(&t, "lib/c.py", data, 10, &e); /* lib 7, c 8 */
    esp01_tree_normalize(&t, &e);
    int rc;
    esp01_fs_usage u;
    uint8_t *img = write_tree(&t, 60, &rc, &u, &e);
    esp01_tree_free(&t);
    *len = 60 * 4096;
    return img;
}

/* FAT12 entry n of an image written by us (FAT at sector 1). */
static void set12(uint8_t *img, uint32_t n, uint32_t v)
{
    uint8_t *p = img + 4096 + n + n / 2;
    if (n & 1) {
        p[0] = (uint8_t)((p[0] & 0x0F) | (v << 4 & 0xF0));
        p[1] = (uint8_t)(v >> 4);
    } else {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)((p[1] & 0xF0) | (v >> 8 & 0x0F));
    }
}

struct issues {
    int n;
    char all[4 * ESP01_ERR_MAX];
};

static void collect(void *ctx, const char *msg)
{
    struct issues *is = ctx;
    size_t l = strlen(is->all);
    if (is->n++ < 4)
        snprintf(is->all + l, sizeof is->all - l, "%s\n", msg);
}

static void expect_damage(uint8_t *img, size_t len, const char *what)
{
    esp01_err e;
    esp01_tree t = ESP01_TREE_INIT;
    CHECK_EQ(esp01_fat_read(img, len, &t, &e), ESP01_E_FORMAT);
    CHECK_EQ(t.count, 0);
    struct issues is = {0, ""};
    int n = esp01_fat_check(img, len, collect, &is, &e);
    CHECK(n > 0);
    CHECK_EQ(n, is.n);
    CHECK(strstr(is.all, what) != NULL);
    if (!strstr(is.all, what))
        printf("# issues: %s\n", is.all);
}

TEST(check_finds_damage)
{
    size_t len;
    uint8_t *img = sample(&len);
    esp01_err e;
    CHECK_EQ(esp01_fat_check(img, len, NULL, NULL, &e), 0);

    set12(img, 4, 2); /* a.bin loops */
    expect_damage(img, len, "loops");
    free(img);

    img = sample(&len);
    set12(img, 4, 5); /* a.bin runs into b.bin */
    expect_damage(img, len, "cross-link");
    free(img);

    img = sample(&len);
    set12(img, 3, 0xFFF); /* a.bin's chain ends early */
    expect_damage(img, len, "chain has 2");
    free(img);

    img = sample(&len);
    set12(img, 6, 900); /* b.bin points outside */
    expect_damage(img, len, "outside the volume");
    free(img);

    img = sample(&len);
    esp01_put_le32((uint8_t *)root_entry(img, 0) + 28, 20000); /* size > chain */
    expect_damage(img, len, "chain has 3");
    free(img);

    img = sample(&len);
    /* lib's entry made to point at the root's cluster 0 . */
    uint8_t *lib = (uint8_t *)root_entry(img, 2);
    CHECK_EQ(lib[11], 0x10);
    esp01_put_le16(lib + 26, 0);
    expect_damage(img, len, "outside the volume");
    free(img);

    img = sample(&len);
    /* lib/c.py renamed "..": would escape an extraction directory */
    uint8_t *c = img + 6 * 4096 + (7 - 2) * 4096 + 2 * 32;
    memcpy(c, "..         ", 11);
    expect_damage(img, len, "unsafe");
    free(img);

    img = sample(&len);
    set12(img, 20, 0xFFF); /* allocated, owned by nothing */
    struct issues is = {0, ""};
    CHECK_EQ(esp01_fat_check(img, len, collect, &is, &e), 1);
    CHECK(strstr(is.all, "belong to no file") != NULL);
    free(img);

    img = sample(&len);
    CHECK_EQ(esp01_fat_check(img, len - 1, NULL, NULL, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "truncated") != NULL);
    img[11] = 3; /* sector size 4099 */
    CHECK_EQ(esp01_fat_check(img, len, NULL, NULL, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "sector size") != NULL);
    free(img);
}

TEST(subdirectory_pointing_up_is_a_loop)
{
    size_t len;
    uint8_t *img = sample(&len);
    /* A third entry in lib (cluster 7) naming lib itself as a subdirectory. */
    uint8_t *d = img + 6 * 4096 + 5 * 4096 + 3 * 32;
    memset(d, 0, 32);
    memcpy(d, "LOOP       ", 11);
    d[11] = 0x10;
    esp01_put_le16(d + 26, 7);
    expect_damage(img, len, "cross-link");
    free(img);
}

TEST(broken_long_name_falls_back_to_short_name)
{
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err e;
    CHECK_EQ(esp01_tree_add_file(&t, "Long Name.txt", (const uint8_t *)"x", 1, &e), 0);
    int rc;
    esp01_fs_usage u;
    uint8_t *img = write_tree(&t, 60, &rc, &u, &e);
    CHECK_EQ(rc, 0);
    uint8_t *lfn = (uint8_t *)root_entry(img, 0);
    CHECK_EQ(lfn[11], 0x0F);
    lfn[13] ^= 0xFF; /* checksum no longer matches the short entry */
    esp01_tree back = ESP01_TREE_INIT;
    CHECK_EQ(esp01_fat_read(img, 60 * 4096, &back, &e), 0);
    CHECK_EQ(back.count, 1);
    if (back.count == 1)
        CHECK_STR(back.entries[0].path, "LONGNA~1.TXT");
    struct issues is = {0, ""};
    CHECK(esp01_fat_check(img, 60 * 4096, collect, &is, &e) >= 1);
    CHECK(strstr(is.all, "long name") != NULL);
    esp01_tree_free(&back);
    esp01_tree_free(&t);
    free(img);
}

int main(void)
{
    RUN(manifest_fat_images);
    RUN(empty_format_matches_micropython_mkfs);
    RUN(geometry_follows_fatfs_mkfs);
    RUN(short_names_as_fatfs_makes_them);
    RUN(numbered_tails_count_then_hash);
    RUN(names_fat_cannot_hold_are_refused);
    RUN(round_trip_generated_tree);
    RUN(mtime_is_kept_to_two_seconds);
    RUN(full_partition_and_overflow);
    RUN(check_finds_damage);
    RUN(subdirectory_pointing_up_is_a_loop);
    RUN(broken_long_name_falls_back_to_short_name);
    CHECK_DONE();
}
