/*
 * esp01 build PROJECT_DIR [--firmware FW.bin] [-o OUT.bin] ...
 *
 * Stock firmware + project folder -> one image that boots into the project.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/build.h"
#include "esp01/devmods.h"
#include "esp01/fileio.h"
#include "esp01/hostdir.h"
#include "esp01/json.h"
#include "esp01/mpy.h"
#include "os/os.h"
#include "fwcli.h"
#include "mipcli.h"
#include "project.h"

static const char build_usage[] =
    "usage: esp01 build PROJECT_DIR [--firmware FW.bin|latest|VERSION] [-o OUT.bin] [options]\n"
    "\n"
    "Make one flash image from a stock MicroPython ESP8266 firmware and a\n"
    "project folder.  Every file in the folder goes to the same path on the\n"
    "board's filesystem, so boot.py and main.py run at first power-up.\n"
    "Dotfiles and patterns listed in PROJECT_DIR/.esp01ignore are skipped.\n"
    "\n"
    "  --firmware FW       stock firmware: a .bin file, or 'latest', or a version\n"
    "                      (1.24.1): the official build for --flash-size (or\n"
    "                      --variant), cached or downloaded (esp01 firmware --help);\n"
    "                      without it, only the filesystem partition is built\n"
    "  -o, --output FILE   where to write the image (default PROJECT.bin,\n"
    "                      or PROJECT-fs.bin for a partition)\n"
    "  --flash-size SIZE   512K|1M|2M|4M|8M|16M, the real chip size (default 1M)\n"
    "  --flash-mode MODE   qio|qout|dio|dout (default dout: works on every ESP-01)\n"
    "  --flash-freq FREQ   40m|26m|20m|80m (default 40m)\n"
    "  --fs FS             littlefs|fat (default: what the firmware formats)\n"
    "  --fs-only           write just the partition and say where it goes\n"
    "  --variant V         1m|generic: the build a partition is laid out for, or\n"
    "                      which official build --firmware latest|VERSION takes\n"
    "                      (default: 1m for a 1 MiB chip, generic for 2 MiB and up)\n"
    "  --mtime SECONDS     timestamp for every file (default: SOURCE_DATE_EPOCH\n"
    "                      if set, else each file's own); for reproducible images\n"
    "  --with LIST         also add these shipped modules (comma-separated, e.g.\n"
    "                      wifitools,thingspeak; those the project's .py files\n"
    "                      import are added to /lib by themselves) and packages\n"
    "                      (umqtt.simple, github:org/repo, a URL; any other name\n"
    "                      with --index or ESP01_MIP_INDEX)\n"
    "  --index URL|DIR     the package index (default: ESP01_MIP_INDEX, else\n"
    "                      " ESP01_MIP_INDEX ")\n"
    "  --no-mpy            packages as .py sources, not the firmware's bytecode\n"
    "  --update            resolve the packages again instead of using esp01.lock\n"
    "  --config FILE.json  put FILE.json into the image as /config.json (settings\n"
    "                      and secrets for wifitools; its contents are never shown)\n"
    "  --mpy               compile .py files (not boot.py, main.py) to .mpy with\n"
    "                      mpy-cross from PATH, for the firmware's .mpy version;\n"
    "                      without an mpy-cross the .py files are kept\n"
    "  --mpy-cross PATH    the mpy-cross to use (implies --mpy)\n"
    "  --dry-run           report what would be written, write nothing\n"
    "  -q, --quiet         no budget report\n"
    "\n"
    "Packages: PROJECT_DIR/package.json lists them as mip does ({\"deps\":\n"
    "[[\"umqtt.simple\", \"latest\"]]}); they go to /lib.  The first build writes\n"
    "PROJECT_DIR/esp01.lock (versions and SHA-256 of every file); later builds\n"
    "take the files from it and the cache, without the index.  A package that\n"
    "only repeats a module frozen into the firmware is skipped.\n"
    "\n"
    "Shipped modules come from the device/ folder next to the esp01 binary's\n"
    "source tree, else from " ESP01_DATADIR "/device; ESP01_DEVICE_DIR overrides.\n";

struct build_args {
    const char *project;
    const char *firmware;
    const char *output;
    bool dry_run;
    bool quiet;
    bool have_mtime;
    uint64_t mtime_s;
    bool variant_given;
    const char *with;
    const char *config;
    bool mpy;
    const char *mpy_cross;
    const char *index;
    bool no_mpy, update;
    esp01_build_options opt;
};

static int parse_args(int argc, char **argv, struct build_args *a)
{
    enum { O_FW = 256, O_SIZE, O_MODE, O_FREQ, O_FS, O_FSONLY, O_VARIANT,
           O_MTIME, O_DRY, O_WITH, O_CONFIG, O_MPY, O_MPYCROSS, O_INDEX, O_NOMPY,
           O_UPDATE };
    static const struct option longopts[] = {
        {"firmware", required_argument, NULL, O_FW},
        {"output", required_argument, NULL, 'o'},
        {"flash-size", required_argument, NULL, O_SIZE},
        {"flash-mode", required_argument, NULL, O_MODE},
        {"flash-freq", required_argument, NULL, O_FREQ},
        {"fs", required_argument, NULL, O_FS},
        {"fs-only", no_argument, NULL, O_FSONLY},
        {"variant", required_argument, NULL, O_VARIANT},
        {"mtime", required_argument, NULL, O_MTIME},
        {"dry-run", no_argument, NULL, O_DRY},
        {"with", required_argument, NULL, O_WITH},
        {"config", required_argument, NULL, O_CONFIG},
        {"mpy", no_argument, NULL, O_MPY},
        {"mpy-cross", required_argument, NULL, O_MPYCROSS},
        {"index", required_argument, NULL, O_INDEX},
        {"no-mpy", no_argument, NULL, O_NOMPY},
        {"update", no_argument, NULL, O_UPDATE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    esp01_build_defaults(&a->opt);
    optind = 1;
    opterr = 0;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case O_FW: a->firmware = optarg; break;
        case 'o': a->output = optarg; break;
        case O_SIZE:
            if (!cli_parse_size(optarg, &v) || v > UINT32_MAX ||
                esp01_flash_size_code((uint32_t)v) < 0)
                return cli_usage_error("build", "--flash-size '%s' is not one of "
                                       "512K, 1M, 2M, 4M, 8M, 16M", optarg);
            a->opt.chip_size = (uint32_t)v;
            break;
        case O_MODE:
            if ((a->opt.flash_mode = esp01_flash_mode_parse(optarg)) < 0)
                return cli_usage_error("build", "--flash-mode '%s' is not one of "
                                       "qio, qout, dio, dout", optarg);
            break;
        case O_FREQ:
            if ((a->opt.flash_freq = esp01_flash_freq_parse(optarg)) < 0)
                return cli_usage_error("build", "--flash-freq '%s' is not one of "
                                       "40m, 26m, 20m, 80m", optarg);
            break;
        case O_FS:
            if (strcmp(optarg, "littlefs") == 0 || strcmp(optarg, "lfs") == 0)
                a->opt.fs = ESP01_FS_LITTLEFS;
            else if (strcmp(optarg, "fat") == 0)
                a->opt.fs = ESP01_FS_FAT;
            else
                return cli_usage_error("build", "--fs '%s' is not littlefs or fat",
                                       optarg);
            break;
        case O_FSONLY: a->opt.fs_only = true; break;
        case O_VARIANT:
            if (strcmp(optarg, "1m") == 0 || strcmp(optarg, "1M") == 0)
                a->opt.variant = ESP01_VARIANT_1M;
            else if (strcmp(optarg, "generic") == 0)
                a->opt.variant = ESP01_VARIANT_GENERIC;
            else
                return cli_usage_error("build", "--variant '%s' is not 1m or generic",
                                       optarg);
            a->variant_given = true;
            break;
        case O_MTIME:
            if (!cli_parse_u64(optarg, &a->mtime_s) || a->mtime_s > 0x3FFFFFFFFull)
                return cli_usage_error("build", "--mtime '%s' is not seconds since 1970",
                                       optarg);
            a->have_mtime = true;
            break;
        case O_DRY: a->dry_run = true; break;
        case O_WITH: a->with = optarg; break;
        case O_CONFIG: a->config = optarg; break;
        case O_MPY: a->mpy = true; break;
        case O_MPYCROSS: a->mpy_cross = optarg; a->mpy = true; break;
        case O_INDEX: a->index = optarg; break;
        case O_NOMPY: a->no_mpy = true; break;
        case O_UPDATE: a->update = true; break;
        case 'q': a->quiet = true; break;
        case 'h': fputs(build_usage, stdout); return -1;
        case ':': return cli_usage_error("build", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("build", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("build", optind >= argc ? "no PROJECT_DIR given"
                                                       : "more than one PROJECT_DIR given");
    a->project = argv[optind];
    if (!a->have_mtime) {
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        if (sde && *sde) {
            if (!cli_parse_u64(sde, &a->mtime_s) || a->mtime_s > 0x3FFFFFFFFull)
                return cli_usage_error("build", "SOURCE_DATE_EPOCH '%s' is not "
                                       "seconds since 1970", sde);
            a->have_mtime = true;
        }
    }
    if (!a->firmware && !a->variant_given)
        a->opt.variant = a->opt.chip_size >= (2u << 20) ? ESP01_VARIANT_GENERIC
                                                         : ESP01_VARIANT_1M;
    return 0;
}

/* "blink" from "examples/blink/" for the default output name. */
static void default_output(const char *project, bool partition, char *out,
                           size_t n)
{
    size_t len = strlen(project);
    while (len > 1 && project[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && project[start - 1] != '/')
        start--;
    const char *base = project + start;
    size_t blen = len - start;
    if (blen == 0 || (blen == 1 && base[0] == '.') ||
        (blen == 2 && base[0] == '.' && base[1] == '.')) {
        base = "project";
        blen = 7;
    }
    snprintf(out, n, "%.*s%s.bin", (int)blen, base, partition ? "-fs" : "");
}

static const char *variant_name(esp01_variant v)
{
    switch (v) {
    case ESP01_VARIANT_512K: return "ESP8266_GENERIC-FLASH_512K";
    case ESP01_VARIANT_1M: return "ESP8266_GENERIC-FLASH_1M";
    case ESP01_VARIANT_GENERIC: return "ESP8266_GENERIC";
    case ESP01_VARIANT_2M_ROMFS: return "ESP8266_GENERIC-FLASH_2M_ROMFS";
    default: return "unknown";
    }
}

/* "512 KiB", "1 MiB", "16 MiB" */
static const char *size_text(uint32_t bytes, char *buf, size_t n)
{
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
        snprintf(buf, n, "%u MiB", bytes >> 20);
    else
        snprintf(buf, n, "%u KiB", bytes >> 10);
    return buf;
}

/* What was added to the project's files, for the report. */
struct build_extras {
    char device_dir[PATH_MAX];
    esp01_devmods_result mods;
    size_t config_len;
    int compiled;          /* .py files compiled to .mpy, -1 when not asked */
    unsigned mpy_version, mpy_sub;
    esp01_mip_result pkgs;
    bool have_pkgs, locked;
    char pkg_mpy[8];
};

/* An executable `name` in one of $PATH's directories. */
static bool on_path(const char *name)
{
    const char *path = getenv("PATH");
    const char sep[2] = {esp01_os_path_list_sep(), '\0'};
    while (path && *path) {
        size_t n = strcspn(path, sep);
        char cand[PATH_MAX];
        snprintf(cand, sizeof cand, "%.*s/%s", (int)n, n ? path : ".", name);
        if (esp01_os_is_executable(cand))
            return true;
        path += n;
        if (*path == sep[0])
            path++;
    }
    return false;
}

static int compile_mpy(const struct build_args *a, esp01_tree *tree, const uint8_t *fw,
                       size_t fw_len, struct build_extras *x)
{
    esp01_err err = {0};
    const char *exe = a->mpy_cross ? a->mpy_cross : "mpy-cross";
    if (!a->mpy_cross && !on_path(exe)) {
        cli_warn("--mpy: no mpy-cross on PATH (give one with --mpy-cross); "
                 "keeping .py files");
        return 0;
    }
    int rc = esp01_mpy_cross_version(exe, &x->mpy_version, &x->mpy_sub, &err);
    if (rc < 0) {
        cli_error("--mpy: %s", err.msg);
        return rc;
    }
    esp01_image_info info;
    if (fw && esp01_image_parse(fw, fw_len, &info, NULL) == 0 && info.has_version) {
        int want = esp01_mpy_version_for_release(info.version_major, info.version_minor,
                                                 info.version_patch, &err);
        if (want < 0) {
            cli_error("--mpy: %s", err.msg);
            return want;
        }
        if ((unsigned)want != x->mpy_version) {
            cli_error("--mpy: %s emits .mpy v%u, but MicroPython v%u.%u.%u loads only v%d: "
                      "use the mpy-cross of that release, or build without --mpy",
                      exe, x->mpy_version, info.version_major, info.version_minor,
                      info.version_patch, want);
            return -1;
        }
    } else {
        cli_warn("--mpy: %s; .mpy v%u files may not load on the board",
                 fw ? "the firmware does not say its version" : "no firmware to check against",
                 x->mpy_version);
    }
    rc = esp01_tree_compile_mpy(tree, exe, &err);
    if (rc < 0) {
        cli_lib_error(rc, &err);
        return rc;
    }
    x->compiled = rc;
    return 0;
}

static void print_packages(const struct build_extras *x, esp01_fs_kind fs)
{
    const esp01_mip_result *r = &x->pkgs;
    printf("packages:   %zu, %zu files, %zu bytes (%s, %s)\n", r->package_count,
           r->file_count, r->total_bytes,
           strcmp(x->pkg_mpy, "py") ? "bytecode" : "sources",
           x->locked ? "from esp01.lock" : "resolved from the index");
    for (size_t i = 0; i < r->package_count; i++) {
        const esp01_mip_package *p = &r->packages[i];
        if (p->skipped_frozen) {
            printf("  %s: skipped, frozen into the firmware already\n", p->name);
            continue;
        }
        unsigned blocks = 0;
        for (size_t k = 0; k < r->file_count; k++)
            if (strcmp(r->files[k].package, p->name) == 0)
                blocks += esp01_fs_file_blocks(fs, r->files[k].len);
        printf("  %s %s: %zu file%s, %zu bytes, %u block%s\n", p->name,
               p->version[0] ? p->version : "(no version)", p->files,
               p->files == 1 ? "" : "s", p->bytes, blocks, blocks == 1 ? "" : "s");
    }
}

static void print_extras(const struct build_extras *x, const struct build_args *a,
                         esp01_fs_kind fs)
{
    const esp01_devmods_result *m = &x->mods;
    if (m->added_count) {
        printf("modules:    ");
        for (size_t i = 0; i < m->added_count; i++)
            printf("%s%s", i ? ", " : "", m->added[i]);
        printf(" -> /lib (shipped, from %s)\n", x->device_dir);
    }
    for (size_t i = 0; i < m->own_count; i++)
        printf("modules:    %s: the project's own copy is used, not the shipped one\n",
               m->own[i]);
    if (a->config)
        printf("config:     config.json from %s (%zu bytes, contents not shown)\n",
               a->config, x->config_len);
    if (x->have_pkgs)
        print_packages(x, fs);
    if (x->compiled >= 0)
        printf("bytecode:   %d file%s compiled to .mpy v%u.%u by mpy-cross\n", x->compiled,
               x->compiled == 1 ? "" : "s", x->mpy_version, x->mpy_sub);
}

static void print_report(const struct build_args *a, const esp01_tree *tree,
                         const esp01_build_result *r, const char *output,
                         const struct build_extras *x)
{
    const esp01_layout *l = &r->layout;
    if (r->have_firmware)
        printf("firmware:   MicroPython %s, %s, %zu bytes\n",
               r->firmware.version[0] ? r->firmware.version : "(version unknown)",
               variant_name(r->firmware.variant), r->firmware.firmware_len);
    else
        printf("firmware:   none given: partition for %s firmware\n",
               variant_name(a->opt.variant));
    char sz[32];
    printf("target:     %s flash, %s, %s\n",
           size_text(a->opt.chip_size, sz, sizeof sz),
           esp01_flash_mode_name(a->opt.flash_mode),
           esp01_flash_freq_name(a->opt.flash_freq));
    printf("filesystem: %s at 0x%x, %u blocks of 4 KiB (ends 0x%x; SDK area 0x%x-0x%x)\n",
           esp01_fs_name(r->fs), l->fs_start, l->fs_blocks,
           l->fs_start + l->fs_blocks * ESP01_SECTOR, l->sdk_start, l->chip_size);
    print_extras(x, a, r->fs);
    printf("\n%8s %6s  %s\n", "bytes", "blocks", "path");
    size_t files = 0;
    for (size_t i = 0; i < tree->count; i++) {
        const esp01_entry *e = &tree->entries[i];
        if (e->type == ESP01_ENTRY_DIR) {
            printf("%8s %6s  %s/\n", "-", "-", e->path);
            continue;
        }
        files++;
        printf("%8zu %6u  %s\n", e->size, esp01_fs_file_blocks(r->fs, e->size),
               e->path);
    }
    /* The count `esp01 fs df` gives: blocks really taken, and for littlefs
       what os.statvfs on the board will say, which counts each
       directory's pair twice (and can pass the total). */
    const esp01_fs_usage *u = &r->usage;
    uint32_t free_blocks = u->blocks_in_use < u->blocks_total
                               ? u->blocks_total - u->blocks_in_use : 0;
    printf("\n%zu files, %zu bytes; filesystem %u of %u %s used, %u KiB free",
           files, esp01_tree_bytes(tree), u->blocks_in_use, u->blocks_total,
           r->fs == ESP01_FS_FAT ? "clusters" : "blocks",
           free_blocks * u->block_size / 1024);
    if (r->fs == ESP01_FS_LITTLEFS)
        printf(" (os.statvfs: %u used, %d free)", u->blocks_used,
               (int)((int64_t)u->blocks_total - (int64_t)u->blocks_used));
    printf("\n");
    for (size_t i = 0; i < tree->count; i++) {
        const esp01_entry *e = &tree->entries[i];
        size_t n = strlen(e->path);
        if (e->type == ESP01_ENTRY_FILE && n > 3 &&
            strcmp(e->path + n - 3, ".py") == 0 && e->size > ESP01_PY_COMPILE_LIMIT)
            cli_warn("%s is %zu bytes: too large to compile in the ESP8266's "
                     "heap (about %u KiB at most); import will fail with "
                     "MemoryError. Split it, or ship it as .mpy",
                     e->path, e->size, ESP01_PY_COMPILE_LIMIT / 1024);
    }
    if (a->dry_run) {
        printf("dry run: would write %s (%zu bytes) to flash at 0x%x\n", output,
               r->image_len, r->write_offset);
    } else if (r->write_offset == 0) {
        printf("wrote %s (%zu bytes): write it at 0x0, e.g. esp01 flash %s\n",
               output, r->image_len, output);
    } else {
        printf("wrote %s (%zu bytes): write it at 0x%x, e.g. esp01 flash %s --offset 0x%x\n",
               output, r->image_len, r->write_offset, output, r->write_offset);
        if (!r->have_firmware)
            printf("the board needs %s firmware at 0x0, flashed for %s\n",
                   variant_name(a->opt.variant),
                   size_text(a->opt.chip_size, sz, sizeof sz));
    }
}

/* The project's packages (package.json, --with) into the tree. */
static int add_packages(const struct build_args *a, char **pkgs, size_t n,
                        esp01_tree *tree, const uint8_t *fw, size_t fw_len,
                        struct build_extras *x)
{
    struct mipcli m;
    int rc = mipcli_init(&m, "build", a->index);
    if (rc)
        return rc;
    if (a->no_mpy) {
        snprintf(m.mpy, sizeof m.mpy, "py");
        m.mpy_given = true;
    }
    mipcli_mpy_for_firmware(&m, fw, fw_len);
    if (fw)
        mipcli_frozen_from(&m, fw, fw_len);
    rc = mipcli_project(&m, a->project, pkgs, n, a->update, &x->pkgs, &x->have_pkgs,
                        &x->locked);
    snprintf(x->pkg_mpy, sizeof x->pkg_mpy, "%s", m.mpy);
    mipcli_done(&m);
    if (rc == 0 && x->have_pkgs)
        rc = mipcli_add_to_tree(&x->pkgs, tree);
    return rc;
}

int cmd_build(int argc, char **argv)
{
    struct build_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? EXIT_OK : rc;

    esp01_err err = {0};
    esp01_tree tree = ESP01_TREE_INIT;
    uint8_t *fw = NULL;
    size_t fw_len = 0;
    esp01_build_result res;
    memset(&res, 0, sizeof res);
    int status = EXIT_FAIL;
    static struct build_extras x;
    memset(&x, 0, sizeof x);
    x.compiled = -1;
    char shipped[1024];
    char **pkgs = NULL;
    size_t npkgs = 0;

    esp01_hostdir_options hopt;
    esp01_hostdir_defaults(&hopt);
    rc = esp01_hostdir_load(&tree, a.project, "", &hopt, &err);
    if (rc < 0) {
        cli_lib_error(rc, &err);
        goto out;
    }
    if (!esp01_tree_find(&tree, "main.py") && !esp01_tree_find(&tree, "boot.py"))
        cli_warn("'%s' has no boot.py or main.py: nothing will run at power-up",
                 a.project);
    if (a.config && project_add_config(a.config, a.project, &tree, &x.config_len) < 0)
        goto out;
    mipcli_drop_project_files(&tree);
    const char *env_index = getenv("ESP01_MIP_INDEX");
    if (project_split_with(a.with, a.index || (env_index && *env_index), shipped,
                           sizeof shipped, &pkgs, &npkgs) != 0)
        goto out;
    if (project_add_modules(a.with && shipped[0] ? shipped : NULL,
                            &tree, x.device_dir, sizeof x.device_dir, &x.mods) < 0)
        goto out;
    static char fw_path[4200];
    if (a.firmware && fwcli_is_release(a.firmware)) {
        /* --variant picks the build; else the chip size does. */
        int forced = !a.variant_given ? -1
                     : a.opt.variant == ESP01_VARIANT_GENERIC ? ESP01_FW_GENERIC : ESP01_FW_1M;
        rc = fwcli_for_project("build", a.firmware, a.opt.chip_size, forced, fw_path,
                               sizeof fw_path);
        if (rc != EXIT_OK) {
            status = rc;
            goto out;
        }
        a.firmware = fw_path;
    }
    if (a.firmware) {
        rc = esp01_read_file(a.firmware, 16u << 20, &fw, &fw_len, &err);
        if (rc < 0) {
            cli_lib_error(rc, &err);
            goto out;
        }
    }
    if (a.mpy && compile_mpy(&a, &tree, fw, fw_len, &x) < 0)
        goto out;
    if (add_packages(&a, pkgs, npkgs, &tree, fw, fw_len, &x) != 0)
        goto out;
    if (a.have_mtime)
        for (size_t i = 0; i < tree.count; i++) {
            tree.entries[i].has_mtime = tree.entries[i].type == ESP01_ENTRY_FILE;
            tree.entries[i].mtime_ns = a.mtime_s * 1000000000ull;
        }
    rc = esp01_build(fw, fw_len, &tree, &a.opt, &res, &err);
    if (rc < 0) {
        if (rc == ESP01_E_NOSPACE && x.have_pkgs)
            cli_error("%s (the packages are %zu of the %zu bytes, in %zu files)", err.msg,
                      x.pkgs.total_bytes, esp01_tree_bytes(&tree), x.pkgs.file_count);
        else if (a.firmware && (rc == ESP01_E_FORMAT || rc == ESP01_E_CHECKSUM))
            cli_error("%s: %s", a.firmware, err.msg);
        else
            cli_lib_error(rc, &err);
        goto out;
    }
    char defname[512];
    const char *output = a.output;
    if (!output) {
        default_output(a.project, res.write_offset != 0, defname, sizeof defname);
        output = defname;
    }
    /* The report lists files in image order; normalise our copy the same way. */
    if (esp01_tree_normalize(&tree, &err) < 0) {
        cli_lib_error(err.code, &err);
        goto out;
    }
    if (!a.dry_run) {
        rc = esp01_write_file_atomic(output, res.image, res.image_len, &err);
        if (rc < 0) {
            cli_lib_error(rc, &err);
            goto out;
        }
    }
    if (!a.quiet)
        print_report(&a, &tree, &res, output, &x);
    status = EXIT_OK;
out:
    esp01_mip_result_free(&x.pkgs);
    mipcli_free_list(pkgs, npkgs);
    esp01_build_result_free(&res);
    esp01_tree_free(&tree);
    free(fw);
    return status;
}
