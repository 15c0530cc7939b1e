/*
 * esp01 fs - look inside, check, extract and make filesystem partitions.
 *
 * IMAGE may be a bare partition, an `esp01 build` output or a whole-flash
 * dump; the partition is found by its superblock (see locate()) unless
 * --offset/--blocks say where it is.  Writing a tree out to the host
 * (extract) is cmd_fs_extract.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_fs.h"
#include "esp01/fat.h"
#include "esp01/fileio.h"
#include "esp01/fs.h"
#include "esp01/hostdir.h"
#include "esp01/image.h"
#include "esp01/layout.h"
#include "esp01/littlefs.h"
#include "esp01/tree.h"

#define IMAGE_MAX (64u * 1024 * 1024)

static const char fs_help[] =
    "usage: esp01 fs <command> IMAGE [PATH] [options]\n"
    "\n"
    "Look inside MicroPython filesystem partitions (littlefs v2) without a board.\n"
    "IMAGE is a partition image, an 'esp01 build' output or a whole-flash dump.\n"
    "\n"
    "commands:\n"
    "  ls IMAGE [PATH]          list a directory (default: the root)\n"
    "  tree IMAGE [PATH]        list everything below PATH\n"
    "  cat IMAGE PATH           write a file's bytes to stdout\n"
    "  extract IMAGE DIR        copy every file and directory into DIR\n"
    "  check IMAGE              report every inconsistency; exit 1 if any\n"
    "                           (notes: power-cut traces littlefs repairs)\n"
    "  df IMAGE                 blocks used and free, as statvfs on the board\n"
    "  mkfs DIR -o OUT          make a partition image holding DIR's files\n"
    "\n"
    "options:\n"
    "  --offset N     the partition starts N bytes into IMAGE (0x... accepted)\n"
    "  --blocks N     the partition is N blocks of 4096 bytes\n"
    "  --force        extract: overwrite files that already exist in DIR\n"
    "  -o FILE        mkfs: output file (written atomically)\n"
    "  --mtime SECS   mkfs: give every file this mtime (seconds since 1970);\n"
    "                 default $SOURCE_DATE_EPOCH if set, else each file's own\n"
    "  --fs littlefs|fat  mkfs: the format (default littlefs)\n"
    "\n"
    "mkfs --blocks defaults to 98, the partition of stock MicroPython on a\n"
    "1 MiB ESP-01.  Dotfiles and .esp01ignore patterns are skipped; symlinks\n"
    "are refused.\n";

typedef struct fs_args {
    const char *sub;
    const char *pos[2];
    int npos;
    bool has_offset, has_blocks, force, has_mtime;
    uint64_t offset, blocks, mtime;
    const char *out;
    const char *fs;
} fs_args;

static int usage_err(const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    return cli_usage_error("fs", "%s", msg);
}

static int parse_args(int argc, char **argv, fs_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(s, "--offset") == 0 || strcmp(s, "--blocks") == 0 ||
                     strcmp(s, "-o") == 0 || strcmp(s, "--mtime") == 0 ||
                     strcmp(s, "--fs") == 0;
        if (takes && !val)
            return usage_err("%s needs a value", s);
        if (strcmp(s, "--offset") == 0) {
            if (!cli_parse_size(val, &a->offset))
                return usage_err("bad --offset '%s'", val);
            a->has_offset = true;
            i++;
        } else if (strcmp(s, "--blocks") == 0) {
            if (!cli_parse_u64(val, &a->blocks) || a->blocks < 2 ||
                a->blocks > 0x100000)
                return usage_err("bad --blocks '%s' (2..1048576)", val);
            a->has_blocks = true;
            i++;
        } else if (strcmp(s, "-o") == 0) {
            a->out = val;
            i++;
        } else if (strcmp(s, "--mtime") == 0) {
            if (!cli_parse_u64(val, &a->mtime) || a->mtime > 0x3ffffffffull)
                return usage_err("bad --mtime '%s' (seconds since 1970)", val);
            a->has_mtime = true;
            i++;
        } else if (strcmp(s, "--fs") == 0) {
            a->fs = val;
            i++;
        } else if (strcmp(s, "--force") == 0) {
            a->force = true;
        } else if (s[0] == '-' && s[1]) {
            return usage_err("unknown option '%s'", s);
        } else if (!a->sub) {
            a->sub = s;
        } else if (a->npos < 2) {
            a->pos[a->npos++] = s;
        } else {
            return usage_err("unexpected argument '%s'", s);
        }
    }
    return 0;
}

/* The partition inside a loaded file. */
typedef struct part {
    uint8_t *file;
    size_t file_len;
    const uint8_t *buf;
    size_t len;
    size_t offset;
    esp01_fs_kind kind;
} part;

/*
 * A flash dump or build output: ask the firmware's layout where its
 * filesystem is, trying the chip size in the header first, then the file's
 * length, then every size.  A partition found there is used as it is.
 */
static bool locate_by_layout(part *p)
{
    esp01_image_info info;
    if (esp01_image_parse(p->file, p->file_len, &info, NULL) < 0)
        return false;
    uint32_t chips[ESP01_CHIP_SIZE_COUNT + 2];
    size_t n = 0;
    uint32_t hdr = esp01_flash_size_bytes(info.flash_size_code);
    if (hdr)
        chips[n++] = hdr;
    if (esp01_flash_size_code((uint32_t)p->file_len) >= 0)
        chips[n++] = (uint32_t)p->file_len;
    for (size_t i = 0; i < ESP01_CHIP_SIZE_COUNT; i++)
        chips[n++] = esp01_chip_sizes[i];
    for (size_t i = 0; i < n; i++) {
        esp01_layout lay;
        if (esp01_layout_for(&info, chips[i], &lay, NULL) < 0 || !lay.has_fs)
            continue;
        size_t len = (size_t)lay.fs_blocks * ESP01_SECTOR;
        if (lay.fs_start > p->file_len || len > p->file_len - lay.fs_start)
            continue;
        esp01_fs_kind kind = esp01_fs_detect(p->file + lay.fs_start, len);
        if (kind == ESP01_FS_NONE)
            continue;
        esp01_lfs_super sb;
        if (kind == ESP01_FS_LITTLEFS &&
            esp01_lfs_probe(p->file + lay.fs_start, len, &sb, NULL) == 0 &&
            sb.block_count != lay.fs_blocks)
            cli_warn("the partition at 0x%x has %u blocks, but this firmware "
                     "on a %u KiB chip expects %u: the board will not mount it",
                     (unsigned)lay.fs_start, (unsigned)sb.block_count,
                     (unsigned)(chips[i] / 1024), (unsigned)lay.fs_blocks);
        p->offset = lay.fs_start;
        p->buf = p->file + lay.fs_start;
        p->len = len;
        p->kind = kind;
        return true;
    }
    return false;
}

/*
 * A firmware whose layout we do not know: the filesystem ends 20 KiB before
 * the end of the chip, so look at sector boundaries for a littlefs
 * superblock whose block count reaches exactly there for some chip size.
 */
static bool scan_flash(part *p)
{
    const uint32_t *chips = esp01_chip_sizes;
    for (size_t off = ESP01_SECTOR; off + 2 * ESP01_SECTOR <= p->file_len;
         off += ESP01_SECTOR) {
        esp01_lfs_super sb;
        esp01_fat_geometry fat;
        uint64_t end;
        esp01_fs_kind kind;
        if (esp01_lfs_probe(p->file + off, p->file_len - off, &sb, NULL) == 0) {
            end = off + (uint64_t)sb.block_count * sb.block_size;
            kind = ESP01_FS_LITTLEFS;
        } else if (esp01_fat_geometry_read(p->file + off, p->file_len - off,
                                           &fat, NULL) == 0 &&
                   fat.sector_size == ESP01_SECTOR) {
            /* older 2 MiB+ firmware formatted FAT there */
            end = off + (uint64_t)fat.total_sectors * fat.sector_size;
            kind = ESP01_FS_FAT;
        } else {
            continue;
        }
        for (size_t c = 0; c < ESP01_CHIP_SIZE_COUNT; c++)
            if (end == chips[c] - ESP01_SDK_RESERVED) {
                p->offset = off;
                p->buf = p->file + off;
                p->len = (size_t)(end - off);
                p->kind = kind;
                return true;
            }
    }
    return false;
}

static int load_part(const char *path, const fs_args *a, part *p)
{
    memset(p, 0, sizeof *p);
    esp01_err err;
    int rc = esp01_read_file(path, IMAGE_MAX, &p->file, &p->file_len, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    if (a->has_offset || a->has_blocks) {
        if (a->offset > p->file_len)
            return cli_error("'%s' is %zu bytes; --offset %" PRIu64
                             " is past its end",
                             path, p->file_len, a->offset);
        p->offset = (size_t)a->offset;
        p->len = p->file_len - p->offset;
        if (a->has_blocks) {
            uint64_t want = a->blocks * ESP01_SECTOR;
            if (want > p->len)
                return cli_error("'%s' has %zu bytes from offset 0x%zx, less "
                                 "than %" PRIu64 " blocks",
                                 path, p->len, p->offset, a->blocks);
            p->len = (size_t)want;
        }
        p->buf = p->file + p->offset;
        p->kind = esp01_fs_detect(p->buf, p->len);
        esp01_lfs_super sb;
        if (p->kind == ESP01_FS_NONE &&
            (rc = esp01_lfs_probe(p->buf, p->len, &sb, &err)) < 0 &&
            rc != ESP01_E_NOTFOUND)
            return cli_error("'%s' at offset 0x%zx: %s", path, p->offset,
                             err.msg);
        if (p->kind == ESP01_FS_NONE)
            return cli_error("no littlefs or FAT filesystem at offset 0x%zx "
                             "of '%s'", p->offset, path);
        return 0;
    }
    p->buf = p->file;
    p->len = p->file_len;
    p->kind = esp01_fs_detect(p->buf, p->len);
    if (p->kind != ESP01_FS_NONE)
        return 0;
    if (p->file_len > 0 && p->file[0] == ESP01_IMAGE_MAGIC &&
        (locate_by_layout(p) || scan_flash(p)))
        return 0;
    esp01_lfs_super sb;
    rc = esp01_lfs_probe(p->buf, p->len, &sb, &err);
    if (rc < 0 && rc != ESP01_E_NOTFOUND)
        return cli_error("'%s': %s", path, err.msg);
    if (p->file_len > 0 && p->file[0] == ESP01_IMAGE_MAGIC)
        return cli_error("'%s' is a firmware image or flash dump, but no "
                         "filesystem partition was found in it (give "
                         "--offset and --blocks)", path);
    return cli_error("'%s' holds no littlefs or FAT filesystem (blank or "
                     "damaged? try 'esp01 fs check')", path);
}

static void free_part(part *p) { free(p->file); }

/* "" for the root; leading and trailing slashes dropped. */
static const char *norm_path(const char *in, char *buf, size_t n)
{
    while (*in == '/')
        in++;
    snprintf(buf, n, "%s", in);
    size_t len = strlen(buf);
    while (len > 0 && buf[len - 1] == '/')
        buf[--len] = '\0';
    return buf;
}

static bool is_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 0)
        return true;
    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* UTC date and time of a count of seconds since 1970, by the proleptic
 * Gregorian calendar (days to civil date after H. Hinnant): gmtime_r is
 * POSIX, gmtime is not thread-safe, and this needs neither. */
static void format_mtime(const esp01_entry *e, char *out, size_t n)
{
    uint64_t secs = e->mtime_ns / 1000000000ull;
    if (!e->has_mtime) {
        snprintf(out, n, "%-19s", "-");
        return;
    }
    uint64_t days = secs / 86400u, rem = secs % 86400u;
    uint64_t z = days + 719468u, era = z / 146097u, doe = z % 146097u;
    uint64_t yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    uint64_t doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    uint64_t mp = (5u * doy + 2u) / 153u;
    unsigned day = (unsigned)(doy - (153u * mp + 2u) / 5u + 1u);
    unsigned month = (unsigned)(mp < 10u ? mp + 3u : mp - 9u);
    uint64_t year = yoe + era * 400u + (month <= 2u);
    if (year > 9999u) {
        snprintf(out, n, "%-19s", "?");
        return;
    }
    snprintf(out, n, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)year, month,
             day, (unsigned)(rem / 3600u), (unsigned)(rem / 60u % 60u),
             (unsigned)(rem % 60u));
}

static int read_tree(const part *p, esp01_tree *t)
{
    esp01_err err;
    esp01_tree_init(t);
    int rc = esp01_fs_read(p->buf, p->len, t, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    rc = esp01_tree_normalize(t, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    return 0;
}

static int do_ls(const part *p, const char *where, bool recursive)
{
    esp01_tree t;
    if (read_tree(p, &t) != 0) {
        esp01_tree_free(&t);
        return EXIT_FAIL;
    }
    char dir[ESP01_PATH_MAX + 1];
    norm_path(where ? where : "", dir, sizeof dir);
    const esp01_entry *self = dir[0] ? esp01_tree_find(&t, dir) : NULL;
    if (dir[0] && !self) {
        esp01_tree_free(&t);
        return cli_error("no '%s' in the image", dir);
    }
    for (size_t i = 0; i < t.count; i++) {
        const esp01_entry *e = &t.entries[i];
        bool match;
        if (self && self->type == ESP01_ENTRY_FILE)
            match = e == self;
        else
            match = is_under(e->path, dir) &&
                    (recursive ||
                     !strchr(e->path + strlen(dir) + (dir[0] ? 1 : 0), '/'));
        if (!match)
            continue;
        char when[32];
        format_mtime(e, when, sizeof when);
        const char *name = recursive || e == self
                               ? e->path
                               : e->path + strlen(dir) + (dir[0] ? 1 : 0);
        if (e->type == ESP01_ENTRY_DIR)
            printf("%10s  %s  %s/\n", "-", when, name);
        else
            printf("%10zu  %s  %s\n", e->size, when, name);
    }
    if (recursive) {
        size_t files = 0, dirs = 0, bytes = 0;
        for (size_t i = 0; i < t.count; i++)
            if (is_under(t.entries[i].path, dir) ||
                (&t.entries[i] == self && self->type == ESP01_ENTRY_FILE)) {
                if (t.entries[i].type == ESP01_ENTRY_DIR)
                    dirs++;
                else
                    files++;
                bytes += t.entries[i].size;
            }
        printf("%zu file%s, %zu director%s, %zu bytes\n", files,
               files == 1 ? "" : "s", dirs, dirs == 1 ? "y" : "ies", bytes);
    }
    esp01_tree_free(&t);
    return EXIT_OK;
}

static int do_cat(const part *p, const char *path)
{
    esp01_tree t;
    if (read_tree(p, &t) != 0) {
        esp01_tree_free(&t);
        return EXIT_FAIL;
    }
    char name[ESP01_PATH_MAX + 1];
    norm_path(path, name, sizeof name);
    const esp01_entry *e = esp01_tree_find(&t, name);
    int rc = EXIT_OK;
    if (!e)
        rc = cli_error("no '%s' in the image", name);
    else if (e->type == ESP01_ENTRY_DIR)
        rc = cli_error("'%s' is a directory", name);
    else if (e->size && fwrite(e->data, 1, e->size, stdout) != e->size)
        rc = cli_error("cannot write to stdout: %s", strerror(errno));
    if (fflush(stdout) != 0 && rc == EXIT_OK)
        rc = cli_error("cannot write to stdout: %s", strerror(errno));
    esp01_tree_free(&t);
    return rc;
}

static void print_problem(void *ctx, const char *msg)
{
    (void)ctx;
    printf("problem: %s\n", msg);
}

/* Traces of a power cut that littlefs repairs itself: not problems. */
static void print_note(void *ctx, const char *msg)
{
    (void)ctx;
    printf("note: %s\n", msg);
}

static int do_check(const part *p, const char *path)
{
    esp01_err err;
    int n = p->kind == ESP01_FS_FAT
                ? esp01_fat_check(p->buf, p->len, print_problem, NULL, &err)
                : esp01_lfs_check(p->buf, p->len, print_problem, print_note,
                                  NULL, &err);
    if (n < 0)
        return cli_lib_error(n, &err);
    /* Reading every file catches what the structural walk cannot. */
    esp01_tree t = ESP01_TREE_INIT;
    int rc = esp01_fs_read(p->buf, p->len, &t, &err);
    if (rc < 0 && n == 0) {
        printf("problem: %s\n", err.msg);
        n++;
    }
    esp01_tree_free(&t);
    if (n > 0) {
        fflush(stdout);
        return cli_error("'%s': %d problem%s found", path, n, n == 1 ? "" : "s");
    }
    esp01_fs_usage u;
    rc = esp01_fs_usage_of(p->buf, p->len, &u, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    printf("%s: %s clean (%u of %u %s)\n", path, esp01_fs_name(p->kind),
           (unsigned)u.blocks_in_use, (unsigned)u.blocks_total,
           p->kind == ESP01_FS_FAT ? "clusters used" : "blocks in use");
    return EXIT_OK;
}

static int do_df(const part *p, const char *path)
{
    esp01_err err;
    esp01_fs_usage u;
    int rc = esp01_fs_usage_of(p->buf, p->len, &u, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    uint32_t in_use = u.blocks_in_use;
    esp01_tree t;
    if (read_tree(p, &t) != 0) {
        esp01_tree_free(&t);
        return EXIT_FAIL;
    }
    size_t files = 0, dirs = 0;
    for (size_t i = 0; i < t.count; i++) {
        if (t.entries[i].type == ESP01_ENTRY_DIR)
            dirs++;
        else
            files++;
    }
    uint32_t free_blocks = in_use < u.blocks_total ? u.blocks_total - in_use : 0;
    printf("%s: %s at offset 0x%zx, %u %s of %u bytes\n", path,
           esp01_fs_name(p->kind), p->offset, (unsigned)u.blocks_total,
           p->kind == ESP01_FS_FAT ? "data clusters" : "blocks",
           (unsigned)u.block_size);
    printf("  used    %6u blocks %9" PRIu64 " bytes\n", (unsigned)in_use,
           (uint64_t)in_use * u.block_size);
    printf("  free    %6u blocks %9" PRIu64 " bytes\n", (unsigned)free_blocks,
           (uint64_t)free_blocks * u.block_size);
    /* MicroPython's littlefs count: each subdirectory's pair twice, and
       f_bfree wraps around when that passes the total. */
    if (p->kind == ESP01_FS_LITTLEFS)
        printf("  statvfs %6u used, %d free (as os.statvfs on the board)\n",
               (unsigned)u.blocks_used,
               (int)((int64_t)u.blocks_total - (int64_t)u.blocks_used));
    printf("  %zu file%s, %zu director%s, %zu bytes of file data\n", files,
           files == 1 ? "" : "s", dirs, dirs == 1 ? "y" : "ies",
           esp01_tree_bytes(&t));
    esp01_tree_free(&t);
    return EXIT_OK;
}

/* ---- extract (cmd_fs_extract.c) ---- */

static int do_extract(const part *p, const char *destdir, bool force)
{
    esp01_tree t;
    if (read_tree(p, &t) != 0) {
        esp01_tree_free(&t);
        return EXIT_FAIL;
    }
    int rc = cmd_fs_extract(&t, destdir, force);
    esp01_tree_free(&t);
    return rc;
}

/* ---- mkfs ---- */

static int do_mkfs(const fs_args *a)
{
    const char *src = a->pos[0];
    if (!a->out)
        return cli_usage_error("fs", "mkfs needs -o OUTPUT");
    esp01_fs_kind kind = ESP01_FS_LITTLEFS;
    if (a->fs && strcmp(a->fs, "fat") == 0)
        kind = ESP01_FS_FAT;
    else if (a->fs && strcmp(a->fs, "littlefs") != 0)
        return cli_usage_error("fs", "--fs must be littlefs or fat, not '%s'",
                               a->fs);
    uint32_t blocks = a->has_blocks ? (uint32_t)a->blocks : 98;
    uint64_t mtime = a->mtime;
    bool fixed_mtime = a->has_mtime;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!fixed_mtime && sde && *sde) {
        if (!cli_parse_u64(sde, &mtime) || mtime > 0x3ffffffffull)
            return cli_error("SOURCE_DATE_EPOCH '%s' is not a number of "
                             "seconds", sde);
        fixed_mtime = true;
    }
    esp01_err err;
    esp01_tree t = ESP01_TREE_INIT;
    esp01_hostdir_options opt;
    esp01_hostdir_defaults(&opt);
    int rc = esp01_hostdir_load(&t, src, "", &opt, &err);
    if (rc < 0) {
        esp01_tree_free(&t);
        return cli_lib_error(rc, &err);
    }
    for (size_t i = 0; i < t.count; i++)
        if (t.entries[i].type == ESP01_ENTRY_FILE && fixed_mtime) {
            t.entries[i].has_mtime = true;
            t.entries[i].mtime_ns = mtime * 1000000000ull;
        }
    size_t len = (size_t)blocks * ESP01_SECTOR;
    uint8_t *img = malloc(len);
    if (!img) {
        esp01_tree_free(&t);
        return cli_error("out of memory for a %u-block image", (unsigned)blocks);
    }
    esp01_fs_usage u = {0};
    rc = esp01_fs_write(kind, &t, blocks, img, len, &u, &err);
    if (rc == 0)
        rc = esp01_write_file_atomic(a->out, img, len, &err);
    int ret = EXIT_OK;
    if (rc < 0) {
        ret = cli_lib_error(rc, &err);
    } else {
        size_t files = 0;
        for (size_t i = 0; i < t.count; i++)
            files += t.entries[i].type == ESP01_ENTRY_FILE;
        if (esp01_fs_usage_of(img, len, &u, &err) < 0)
            u.blocks_in_use = u.blocks_used;
        uint32_t in_use = u.blocks_in_use;
        printf("%s: %s, %u blocks of 4096 bytes; %zu file%s, %zu bytes; "
               "%u blocks used, %u free\n",
               a->out, esp01_fs_name(kind), (unsigned)blocks, files,
               files == 1 ? "" : "s", esp01_tree_bytes(&t), (unsigned)in_use,
               (unsigned)(blocks - in_use));
    }
    free(img);
    esp01_tree_free(&t);
    return ret;
}

int cmd_fs(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(fs_help, stdout);
            return EXIT_OK;
        }
    fs_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    if (!a.sub)
        return cli_usage_error("fs", "which fs command? (ls, tree, cat, "
                                     "extract, check, df, mkfs)");
    static const struct {
        const char *name;
        int min, max;
    } subs[] = {{"ls", 1, 2},    {"tree", 1, 2}, {"cat", 2, 2},
                {"extract", 2, 2}, {"check", 1, 1}, {"df", 1, 1},
                {"mkfs", 1, 1}};
    size_t k = 0;
    while (k < sizeof subs / sizeof subs[0] && strcmp(subs[k].name, a.sub))
        k++;
    if (k == sizeof subs / sizeof subs[0])
        return usage_err("'%s' is not an fs command", a.sub);
    if (a.npos < subs[k].min || a.npos > subs[k].max)
        return cli_usage_error("fs", "%s takes %s", a.sub,
                               subs[k].min == subs[k].max && subs[k].min == 1
                                   ? (strcmp(a.sub, "mkfs") ? "IMAGE"
                                                            : "DIR -o OUTPUT")
                               : strcmp(a.sub, "cat") == 0 ? "IMAGE PATH"
                               : strcmp(a.sub, "extract") == 0 ? "IMAGE DIR"
                                                               : "IMAGE [PATH]");
    if (strcmp(a.sub, "mkfs") == 0)
        return do_mkfs(&a);
    if (a.force && strcmp(a.sub, "extract") != 0)
        return usage_err("--force only applies to extract%s", "");
    part p;
    rc = load_part(a.pos[0], &a, &p);
    if (rc == 0) {
        if (strcmp(a.sub, "ls") == 0)
            rc = do_ls(&p, a.pos[1], false);
        else if (strcmp(a.sub, "tree") == 0)
            rc = do_ls(&p, a.pos[1], true);
        else if (strcmp(a.sub, "cat") == 0)
            rc = do_cat(&p, a.pos[1]);
        else if (strcmp(a.sub, "extract") == 0)
            rc = do_extract(&p, a.pos[1], a.force);
        else if (strcmp(a.sub, "check") == 0)
            rc = do_check(&p, a.pos[0]);
        else
            rc = do_df(&p, a.pos[0]);
    }
    free_part(&p);
    return rc;
}
