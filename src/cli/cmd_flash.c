/*
 * esp01 flash: write an image through the flasher stub (or the ROM
 * loader with --no-stub), with the header
 * matched to the chip that is really there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/build.h"
#include "esp01/fileio.h"
#include "esp01/hostdir.h"
#include "esp01/image.h"
#include "esp01/layout.h"
#include "esp01/stub.h"
#include "flashfleet.h"
#include "fwcli.h"
#include "mipcli.h"
#include "project.h"
#include "os/os.h"
#include "romcli.h"

/* package.json's packages, as build adds them (through esp01.lock and
 * the cache once a build wrote them; ESP01_MIP_INDEX otherwise). */
static int add_packages(const char *path, esp01_tree *tree, const uint8_t *fw, size_t len)
{
    mipcli_drop_project_files(tree);
    struct mipcli m;
    int rc = mipcli_init(&m, "flash", NULL);
    if (rc)
        return rc;
    mipcli_mpy_for_firmware(&m, fw, len);
    if (fw)
        mipcli_frozen_from(&m, fw, len);
    esp01_mip_result r;
    memset(&r, 0, sizeof r);
    bool found = false, locked = false;
    rc = mipcli_project(&m, path, NULL, 0, false, &r, &found, &locked);
    mipcli_done(&m);
    if (rc == 0 && found)
        rc = mipcli_add_to_tree(&r, tree);
    if (rc == 0 && found && r.package_count) {
        fprintf(stderr, "Packages:  ");
        for (size_t i = 0; i < r.package_count; i++)
            fprintf(stderr, "%s%s %s%s", i ? ", " : "", r.packages[i].name,
                    r.packages[i].version, r.packages[i].skipped_frozen ? " (frozen)" : "");
        fprintf(stderr, " -> /lib (%zu files, %zu bytes%s)\n", r.file_count, r.total_bytes,
                locked ? ", from esp01.lock" : "");
    }
    esp01_mip_result_free(&r);
    return rc ? EXIT_FAIL : EXIT_OK;
}

/* --config, packages and the shipped modules the project imports, as
 * build adds them; what was added is said on stderr. */
static int add_to_project(const char *path, const char *config, esp01_tree *tree,
                          const uint8_t *fw, size_t fw_len)
{
    if (add_packages(path, tree, fw, fw_len) != EXIT_OK)
        return EXIT_FAIL;
    size_t config_len = 0;
    if (config && project_add_config(config, path, tree, &config_len) < 0)
        return EXIT_FAIL;
    char device_dir[4096];
    esp01_devmods_result mods;
    memset(&mods, 0, sizeof mods);
    if (project_add_modules(NULL, tree, device_dir, sizeof device_dir, &mods) < 0)
        return EXIT_FAIL;
    if (mods.added_count) {
        fprintf(stderr, "Modules:   ");
        for (size_t i = 0; i < mods.added_count; i++)
            fprintf(stderr, "%s%s", i ? ", " : "", mods.added[i]);
        fprintf(stderr, " -> /lib\n");
    }
    if (config)
        fprintf(stderr, "Config:    config.json from %s (%zu bytes, contents not shown)\n",
                config, config_len);
    return EXIT_OK;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: esp01 flash IMAGE.bin [--offset N] [--flash-size SIZE]\n"
            "                   [--flash-mode MODE] [--flash-freq FREQ] [options]\n"
            "       esp01 flash PROJECT_DIR [--firmware FW.bin|latest|VERSION]\n"
            "                   [--config FILE.json] [options]\n"
            "       esp01 flash PROJECT_DIR --port A --port B ... | --all-ports\n"
            "                   [--board-config BOARDS.json] [options]\n\n"
            "Write IMAGE.bin to the flash chip.  The flash size is read from\n"
            "the chip first.  For a firmware image written at 0x0, header\n"
            "bytes 2-3 are set to match: flash size from the chip (or\n"
            "--flash-size), mode dout (or --flash-mode), frequency kept (or\n"
            "--flash-freq).  An image larger than the chip, or a MicroPython\n"
            "build that cannot run on it, is refused.\n\n"
            "By default esp01 uploads its own flasher stub, moves to --baud,\n"
            "asks the chip for MD5 sums of the image's regions and writes only\n"
            "the sectors that differ: each run of them compressed, blank\n"
            "sectors only erased on the chip.  The MD5 of the whole image is\n"
            "checked on the chip afterwards.  If the stub does not start, esp01 says so and uses\n"
            "the ROM loader, as --no-stub does: 115200 baud, uncompressed, one\n"
            "word of every sector read back.\n\n"
            "With a project folder, the image is built first (as 'esp01 build'\n"
            "would, shipped modules included) for the chip that is connected,\n"
            "then written.  Without --firmware the newest official release for\n"
            "that chip is used (1M build on 1 MiB, generic on 2 MiB and up), from\n"
            "the cache or downloaded (esp01 firmware --help).\n\n"
            "Several --port options, or --all-ports, flash several boards at\n"
            "once: one line of progress each, then a summary; the exit status is\n"
            "0 only if every board was written.\n\n"
            "  --firmware FW      project folders: stock firmware, a file or\n"
            "                     'latest' or a version (1.24.1) of the official\n"
            "                     build for the chip (default: latest)\n"
            "  --config FILE.json project folders: bake FILE.json in as\n"
            "                     /config.json (contents never shown)\n"
            "  --all-ports        every USB serial port (esp01 ports)\n"
            "  --board-config F   several boards: a JSON object from port path,\n"
            "                     by-path name, USB serial number or \"*\" to the\n"
            "                     config.json each board gets\n"
            "  --full             write every sector, even those the chip's MD5\n"
            "                     says already hold the image\n"
            "  --offset N         flash address (multiple of 4096; default 0)\n"
            "  --flash-size SIZE  header size: 512K, 1M, 2M, 4M, 8M, 16M\n"
            "  --flash-mode MODE  dout (default), dio, qout, qio\n"
            "  --flash-freq FREQ  40m, 26m, 20m, 80m (default: as in the image)\n"
            "%s", romcli_options_help);
}

/* What the command line asks for. */
struct flash_opts {
    const char *path, *firmware, *config;
    bool help, full, offset_given;
    bool project; /* path is a project folder to build */
    bool release; /* ... with an official release chosen for the chip */
    uint64_t offset, header_size;
    int mode, freq;
};

/* What goes on the chip: the image and where, and what it was made from. */
struct flash_plan {
    uint8_t *img;
    size_t len;
    uint64_t offset;
    esp01_tree tree;
    esp01_build_result built;
};

/* --offset, --flash-size, --flash-mode or --flash-freq `a` with value `v`. */
static int parse_image_option(struct flash_opts *f, const char *a,
                              const char *v)
{
    if (strcmp(a, "--offset") == 0) {
        if (!cli_parse_size(v, &f->offset) || f->offset % 4096 ||
            f->offset >= 16u * 1024 * 1024)
            return cli_usage_error("flash", "--offset '%s' must be a "
                                   "multiple of 4096 below 16M", v);
        f->offset_given = true;
    } else if (strcmp(a, "--flash-size") == 0) {
        if (!cli_parse_size(v, &f->header_size) ||
            f->header_size > UINT32_MAX ||
            esp01_flash_size_code((uint32_t)f->header_size) < 0)
            return cli_usage_error("flash", "--flash-size '%s' is not "
                                   "one of 512K 1M 2M 4M 8M 16M", v);
    } else if (strcmp(a, "--flash-mode") == 0) {
        if ((f->mode = esp01_flash_mode_parse(v)) < 0)
            return cli_usage_error("flash", "--flash-mode '%s' is not "
                                   "dout, dio, qout or qio", v);
    } else {
        if ((f->freq = esp01_flash_freq_parse(v)) < 0)
            return cli_usage_error("flash", "--flash-freq '%s' is not "
                                   "40m, 26m, 20m or 80m", v);
    }
    return EXIT_OK;
}

/* The options and the one image or project folder; EXIT_OK or the exit
 * code after the message.  --help sets f->help. */
static int parse_args(int argc, char **argv, struct romcli *o,
                      struct flash_opts *f)
{
    memset(f, 0, sizeof *f);
    f->mode = ESP01_MODE_DOUT;
    f->freq = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            f->help = true;
            return EXIT_OK;
        }
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--full") == 0) {
            f->full = true;
            continue;
        }
        if (strcmp(a, "--firmware") == 0 || strcmp(a, "--config") == 0) {
            if (!has_value)
                return cli_usage_error("flash", "%s needs a value", a);
            if (strcmp(a, "--firmware") == 0)
                f->firmware = argv[++i];
            else
                f->config = argv[++i];
            continue;
        }
        if (strcmp(a, "--offset") == 0 || strcmp(a, "--flash-size") == 0 ||
            strcmp(a, "--flash-mode") == 0 || strcmp(a, "--flash-freq") == 0) {
            if (!has_value)
                return cli_usage_error("flash", "%s needs a value", a);
            int rc = parse_image_option(f, a, argv[++i]);
            if (rc != EXIT_OK)
                return rc;
            continue;
        }
        int r = romcli_option(o, "flash", argc, argv, &i);
        if (r < 0)
            return EXIT_USAGE;
        if (r == 1)
            continue;
        if (a[0] == '-' && a[1])
            return cli_usage_error("flash", "unknown option '%s'", a);
        if (f->path)
            return cli_usage_error("flash", "one image at a time ('%s' and "
                                   "'%s')", f->path, a);
        f->path = a;
    }
    if (!f->path)
        return cli_usage_error("flash", "which image? (esp01 flash IMAGE.bin)");
    f->project = esp01_os_is_dir(f->path);
    if (!f->project && (f->firmware || f->config))
        return cli_usage_error("flash", "%s goes with a project folder, and "
                               "'%s' is not one",
                               f->firmware ? "--firmware" : "--config", f->path);
    if (f->project && !f->firmware)
        f->firmware = "latest";
    /* A release for the chip is chosen once its size is known. */
    f->release = f->project && fwcli_is_release(f->firmware);
    if (f->project && f->offset_given)
        return cli_usage_error("flash", "--offset does not apply to a project "
                               "folder (the build decides where it goes)");
    return EXIT_OK;
}

static void plan_free(struct flash_plan *p)
{
    free(p->img);
    esp01_build_result_free(&p->built);
    esp01_tree_free(&p->tree);
}

/* Before connecting: the image file, or the project's files (and the
 * firmware file unless a release is to be chosen for the chip). */
static int plan_load(const struct flash_opts *f, struct flash_plan *p)
{
    esp01_err err;
    esp01_err_clear(&err);
    int rc;
    if (f->project) {
        esp01_hostdir_options hopt;
        esp01_hostdir_defaults(&hopt);
        rc = esp01_hostdir_load(&p->tree, f->path, "", &hopt, &err);
        if (rc == 0 && !f->release)
            rc = esp01_read_file(f->firmware, 16u * 1024 * 1024, &p->img,
                                 &p->len, &err);
        if (rc < 0)
            return cli_lib_error(rc, &err);
        return add_to_project(f->path, f->config, &p->tree, p->img, p->len);
    }
    rc = esp01_read_file(f->path, 16u * 1024 * 1024, &p->img, &p->len, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    if (p->len == 0)
        return cli_error("'%s' is empty", f->path);
    return EXIT_OK;
}

/* A project folder built for the connected chip, on the release chosen
 * for it when one is wanted. */
static int plan_build(const struct flash_opts *f, uint32_t chip,
                      const char *chip_s, struct flash_plan *p)
{
    esp01_err err;
    esp01_err_clear(&err);
    int rc;
    if (f->release) {
        static char fw_path[4200];
        uint32_t for_size = f->header_size ? (uint32_t)f->header_size : chip;
        if ((rc = fwcli_for_project("flash", f->firmware, for_size, -1,
                                    fw_path, sizeof fw_path)) != EXIT_OK)
            return rc;
        if ((rc = esp01_read_file(fw_path, 16u * 1024 * 1024, &p->img,
                                  &p->len, &err)) < 0) {
            cli_lib_error(rc, &err);
            return EXIT_FAIL;
        }
    }
    esp01_build_options bopt;
    esp01_build_defaults(&bopt);
    bopt.chip_size = f->header_size ? (uint32_t)f->header_size : chip;
    bopt.flash_mode = f->mode;
    if (f->freq >= 0)
        bopt.flash_freq = f->freq;
    if (bopt.chip_size > chip)
        return cli_error("--flash-size is larger than the %s chip", chip_s);
    if ((rc = esp01_build(p->img, p->len, &p->tree, &bopt, &p->built,
                          &err)) < 0)
        return cli_error("cannot build '%s' for this chip: %s", f->path,
                         err.msg);
    free(p->img);
    p->img = p->built.image;
    p->len = p->built.image_len;
    p->offset = p->built.write_offset;
    p->built.image = NULL;
    fprintf(stderr, "Built %zu bytes for a %s chip (header: %s)\n", p->len,
            chip_s, esp01_flash_mode_name(f->mode));
    return EXIT_OK;
}

/* A firmware image file written at 0x0: its header's size, mode and
 * frequency set for the chip, after checking it can run there. */
static int plan_header(const struct flash_opts *f, uint32_t chip,
                       const char *chip_s, struct flash_plan *p)
{
    esp01_err err;
    esp01_err_clear(&err);
    char size_s[32];
    esp01_image_info info;
    int rc = esp01_image_parse(p->img, p->len, &info, &err);
    if (rc < 0)
        return cli_error("'%s' starts like a firmware image but is not one: "
                         "%s", f->path, err.msg);
    uint32_t hsize = f->header_size ? (uint32_t)f->header_size : chip;
    if (hsize > chip)
        cli_warn("--flash-size %u KiB is larger than the chip (%s)",
                 hsize / 1024, chip_s);
    int size_code = esp01_flash_size_code(hsize);
    romcli_format_size(hsize, size_s, sizeof size_s);
    if (size_code < 0)
        return cli_error("no image header size code for %s of flash", size_s);
    esp01_layout layout;
    rc = esp01_layout_for(&info, hsize, &layout, &err);
    if (rc == 0 && !layout.runs)
        return cli_error("'%s' cannot run with %s of flash: %s", f->path,
                         size_s, layout.why_not);
    /* It boots, but MicroPython finds no room for a filesystem: what the
       user saves is gone at the next reset.  Said before writing, since
       the board will look fine at first. */
    if (rc == 0 && !layout.has_fs)
        cli_warn("'%s' with %s of flash: no filesystem: %s", f->path, size_s,
                 layout.why_not);
    if (rc < 0 && rc != ESP01_E_UNSUPPORTED) {
        cli_lib_error(rc, &err);
        return EXIT_FAIL;
    }
    if (rc == ESP01_E_UNSUPPORTED)
        cli_warn("cannot check that '%s' fits this chip: %s", f->path,
                 err.msg);
    int freq = f->freq >= 0 ? f->freq : info.flash_freq;
    if ((rc = esp01_image_patch_header(p->img, p->len, f->mode, size_code,
                                       freq, &err)) < 0) {
        cli_lib_error(rc, &err);
        return EXIT_FAIL;
    }
    const char *fname = esp01_flash_freq_name(freq);
    fprintf(stderr, "Image header set to: %s, %s, %s\n",
            esp01_flash_mode_name(f->mode), size_s, fname ? fname : "?");
    return EXIT_OK;
}

/* Once connected: the image made for the chip that is there, and checked
 * to fit it. */
static int plan_for_chip(const struct romcli *o, const struct flash_opts *f,
                         struct flash_plan *p)
{
    uint32_t chip = o->flash.size;
    char chip_s[32];
    romcli_format_size(chip, chip_s, sizeof chip_s);
    fprintf(stderr, "Connected: %s, %s flash (JEDEC %02x%02x%02x)\n",
            romcli_chip_name(&o->chip), chip_s, o->flash.manufacturer,
            o->flash.type, o->flash.capacity);
    int rc;
    if (f->project && (rc = plan_build(f, chip, chip_s, p)) != EXIT_OK)
        return rc;
    if (p->offset + p->len > chip)
        return cli_error("'%s' (%zu bytes at 0x%llx) does not fit in the %s "
                         "flash chip", f->path, p->len,
                         (unsigned long long)p->offset, chip_s);
    if (!f->project && p->offset == 0 && p->img[0] == ESP01_IMAGE_MAGIC)
        return plan_header(f, chip, chip_s, p);
    return EXIT_OK;
}

/* Only the sectors that differ, through the stub; the summary on stdout. */
static int run_stub(struct romcli *o, const struct flash_opts *f,
                    const struct flash_plan *p, struct romcli_progress *prog)
{
    esp01_err err;
    esp01_err_clear(&err);
    uint64_t t0 = esp01_now_ms(), wire0 = o->rom.wire_tx;
    esp01_stub_write_stats sst;
    esp01_stub_write_opts wopt = {f->full};
    int rc = esp01_stub_write_flash(&o->rom, (uint32_t)p->offset, p->img,
                                    p->len, &wopt, &sst, &err);
    romcli_progress_end(prog);
    if (rc < 0) {
        cli_lib_error(rc, &err);
        return EXIT_FAIL;
    }
    double secs = (double)(esp01_now_ms() - t0) / 1000.0;
    uint64_t wire = o->rom.wire_tx - wire0;
    if (sst.differing == 0)
        printf("Flash at 0x%06llx already holds all %zu bytes (MD5 of %u "
               "sectors on the chip): nothing written, %.1f s\n",
               (unsigned long long)p->offset, p->len, sst.sectors, secs);
    else
        printf("Wrote %zu bytes at 0x%06llx in %.1f s: %u of %u sectors "
               "differed, %llu bytes on the wire (%.0f%%), %u blank "
               "sectors only erased; MD5 verified%s\n",
               p->len, (unsigned long long)p->offset, secs, sst.differing,
               sst.sectors, (unsigned long long)wire,
               100.0 * (double)wire / (double)p->len, sst.blank_sectors,
               sst.rewritten ? " after writing some sectors twice" : "");
    return EXIT_OK;
}

/* Every sector through the ROM loader (--no-stub, or no stub started). */
static int run_rom(struct romcli *o, const struct flash_plan *p,
                   struct romcli_progress *prog)
{
    esp01_err err;
    esp01_err_clear(&err);
    uint64_t t0 = esp01_now_ms();
    esp01_rom_write_stats stats;
    int rc = esp01_rom_write_flash(&o->rom, (uint32_t)p->offset, p->img,
                                   p->len, &stats, &err);
    romcli_progress_end(prog);
    if (rc < 0) {
        cli_lib_error(rc, &err);
        return EXIT_FAIL;
    }
    double secs = (double)(esp01_now_ms() - t0) / 1000.0;
    printf("Wrote %zu bytes at 0x%06llx in %.1f s: %u bytes sent, %u blank "
           "sectors only erased", p->len, (unsigned long long)p->offset, secs,
           stats.payload_sent, stats.blank_sectors);
    if (stats.restarts || stats.block_retries || stats.repaired_sectors)
        printf(", %u blocks resent, %u restarts, %u sectors rewritten "
               "after read-back", stats.block_retries, stats.restarts,
               stats.repaired_sectors);
    printf("\n");
    if (stats.collateral != ESP01_ROM_NO_COLLATERAL)
        cli_warn("the ROM loader cannot erase a single sector alone: "
                 "sector 0x%06x was erased too", stats.collateral);
    return EXIT_OK;
}

/* Write the plan with progress, then leave the chip as --after says. */
static int run(struct romcli *o, const struct flash_opts *f,
               const struct flash_plan *p)
{
    struct romcli_progress prog;
    romcli_progress_start(&prog, "Writing");
    o->rom.progress = romcli_progress;
    o->rom.progress_ctx = &prog;
    int rc = o->use_stub ? run_stub(o, f, p, &prog) : run_rom(o, p, &prog);
    if (rc != EXIT_OK)
        return rc;
    return romcli_finish(o);
}

int cmd_flash(int argc, char **argv)
{
    if (flashfleet_wanted(argc, argv))
        return flashfleet_run(argc, argv);
    struct romcli o;
    romcli_init(&o);
    struct flash_opts f;
    int rc = parse_args(argc, argv, &o, &f);
    if (rc != EXIT_OK)
        return rc;
    if (f.help) {
        usage(stdout);
        return EXIT_OK;
    }
    struct flash_plan p;
    memset(&p, 0, sizeof p);
    p.tree = (esp01_tree)ESP01_TREE_INIT;
    p.offset = f.offset;
    if ((rc = plan_load(&f, &p)) == EXIT_OK &&
        (rc = romcli_open(&o, "flash", false)) == EXIT_OK) {
        rc = plan_for_chip(&o, &f, &p);
        if (rc == EXIT_OK)
            rc = run(&o, &f, &p);
        romcli_close(&o);
    }
    plan_free(&p);
    return rc;
}
