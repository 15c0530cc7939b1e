/*
 * esp01 flash: write an image through the flasher stub (or the ROM
 * loader with --no-stub), with the header
 * matched to the chip that is really there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "esp01/build.h"
#include "esp01/fileio.h"
#include "esp01/hostdir.h"
#include "esp01/image.h"
#include "esp01/layout.h"
#include "esp01/stub.h"
#include "flashfleet.h"
#include "fwcli.h"
#include "project.h"
#include "romcli.h"

/* --config and the shipped modules the project imports, as build adds
 * them; what was added is said on stderr. */
static int add_to_project(const char *path, const char *config, esp01_tree *tree)
{
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

int cmd_flash(int argc, char **argv)
{
    if (flashfleet_wanted(argc, argv))
        return flashfleet_run(argc, argv);
    struct romcli o;
    romcli_init(&o);
    const char *path = NULL, *firmware = NULL, *config = NULL;
    bool offset_given = false, full = false;
    uint64_t offset = 0, header_size = 0;
    int mode = ESP01_MODE_DOUT, freq = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--full") == 0) {
            full = true;
            continue;
        }
        if (strcmp(a, "--firmware") == 0 || strcmp(a, "--config") == 0) {
            if (!has_value)
                return cli_usage_error("flash", "%s needs a value", a);
            if (strcmp(a, "--firmware") == 0)
                firmware = argv[++i];
            else
                config = argv[++i];
            continue;
        }
        if (strcmp(a, "--offset") == 0 || strcmp(a, "--flash-size") == 0 ||
            strcmp(a, "--flash-mode") == 0 || strcmp(a, "--flash-freq") == 0) {
            if (!has_value)
                return cli_usage_error("flash", "%s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--offset") == 0) {
                if (!cli_parse_size(v, &offset) || offset % 4096 ||
                    offset >= 16u * 1024 * 1024)
                    return cli_usage_error("flash", "--offset '%s' must be a "
                                           "multiple of 4096 below 16M", v);
                offset_given = true;
            } else if (strcmp(a, "--flash-size") == 0) {
                if (!cli_parse_size(v, &header_size) ||
                    header_size > UINT32_MAX ||
                    esp01_flash_size_code((uint32_t)header_size) < 0)
                    return cli_usage_error("flash", "--flash-size '%s' is not "
                                           "one of 512K 1M 2M 4M 8M 16M", v);
            } else if (strcmp(a, "--flash-mode") == 0) {
                if ((mode = esp01_flash_mode_parse(v)) < 0)
                    return cli_usage_error("flash", "--flash-mode '%s' is not "
                                           "dout, dio, qout or qio", v);
            } else {
                if ((freq = esp01_flash_freq_parse(v)) < 0)
                    return cli_usage_error("flash", "--flash-freq '%s' is not "
                                           "40m, 26m, 20m or 80m", v);
            }
            continue;
        }
        int r = romcli_option(&o, "flash", argc, argv, &i);
        if (r < 0)
            return EXIT_USAGE;
        if (r == 1)
            continue;
        if (a[0] == '-' && a[1])
            return cli_usage_error("flash", "unknown option '%s'", a);
        if (path)
            return cli_usage_error("flash", "one image at a time ('%s' and "
                                   "'%s')", path, a);
        path = a;
    }
    if (!path)
        return cli_usage_error("flash", "which image? (esp01 flash IMAGE.bin)");
    struct stat st;
    bool project = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    if (!project && (firmware || config))
        return cli_usage_error("flash", "%s goes with a project folder, and "
                               "'%s' is not one", firmware ? "--firmware" : "--config",
                               path);
    if (project && !firmware)
        firmware = "latest";
    /* A release for the chip is chosen once its size is known. */
    bool release = project && fwcli_is_release(firmware);
    if (project && offset_given)
        return cli_usage_error("flash", "--offset does not apply to a project "
                               "folder (the build decides where it goes)");

    uint8_t *img = NULL;
    size_t len = 0;
    esp01_err err;
    esp01_err_clear(&err);
    esp01_tree tree = ESP01_TREE_INIT;
    int rc;
    if (project) {
        esp01_hostdir_options hopt;
        esp01_hostdir_defaults(&hopt);
        rc = esp01_hostdir_load(&tree, path, "", &hopt, &err);
        if (rc == 0 && !release)
            rc = esp01_read_file(firmware, 16u * 1024 * 1024, &img, &len, &err);
        if (rc < 0) {
            esp01_tree_free(&tree);
            return cli_lib_error(rc, &err);
        }
        if ((rc = add_to_project(path, config, &tree)) != EXIT_OK) {
            free(img);
            esp01_tree_free(&tree);
            return rc;
        }
    } else {
        rc = esp01_read_file(path, 16u * 1024 * 1024, &img, &len, &err);
        if (rc < 0)
            return cli_lib_error(rc, &err);
        if (len == 0) {
            free(img);
            return cli_error("'%s' is empty", path);
        }
    }

    esp01_build_result built;
    memset(&built, 0, sizeof built);
    if ((rc = romcli_open(&o, "flash", false)) != EXIT_OK) {
        free(img);
        esp01_tree_free(&tree);
        return rc;
    }
    int code = EXIT_FAIL;
    uint32_t chip = o.flash.size;
    char chip_s[32], size_s[32];
    romcli_format_size(chip, chip_s, sizeof chip_s);
    fprintf(stderr, "Connected: %s, %s flash (JEDEC %02x%02x%02x)\n",
            romcli_chip_name(&o.chip), chip_s, o.flash.manufacturer,
            o.flash.type, o.flash.capacity);
    if (release) {
        static char fw_path[4200];
        uint32_t for_size = header_size ? (uint32_t)header_size : chip;
        if ((rc = fwcli_for_project("flash", firmware, for_size, -1, fw_path,
                                    sizeof fw_path)) != EXIT_OK) {
            code = rc;
            goto out;
        }
        if ((rc = esp01_read_file(fw_path, 16u * 1024 * 1024, &img, &len, &err)) < 0) {
            cli_lib_error(rc, &err);
            goto out;
        }
    }
    if (project) {
        esp01_build_options bopt;
        esp01_build_defaults(&bopt);
        bopt.chip_size = header_size ? (uint32_t)header_size : chip;
        bopt.flash_mode = mode;
        if (freq >= 0)
            bopt.flash_freq = freq;
        if (bopt.chip_size > chip) {
            cli_error("--flash-size is larger than the %s chip", chip_s);
            goto out;
        }
        if ((rc = esp01_build(img, len, &tree, &bopt, &built, &err)) < 0) {
            cli_error("cannot build '%s' for this chip: %s", path, err.msg);
            goto out;
        }
        free(img);
        img = built.image;
        len = built.image_len;
        offset = built.write_offset;
        built.image = NULL;
        fprintf(stderr, "Built %zu bytes for a %s chip (header: %s)\n", len,
                chip_s, esp01_flash_mode_name(mode));
    }
    if (offset + len > chip) {
        cli_error("'%s' (%zu bytes at 0x%llx) does not fit in the %s flash "
                  "chip", path, len, (unsigned long long)offset, chip_s);
        goto out;
    }
    if (!project && offset == 0 && img[0] == ESP01_IMAGE_MAGIC) {
        esp01_image_info info;
        if ((rc = esp01_image_parse(img, len, &info, &err)) < 0) {
            cli_error("'%s' starts like a firmware image but is not one: %s",
                      path, err.msg);
            goto out;
        }
        uint32_t hsize = header_size ? (uint32_t)header_size : chip;
        if (hsize > chip)
            cli_warn("--flash-size %u KiB is larger than the chip (%s)",
                     hsize / 1024, chip_s);
        int size_code = esp01_flash_size_code(hsize);
        if (size_code < 0) {
            romcli_format_size(hsize, size_s, sizeof size_s);
            cli_error("no image header size code for %s of flash", size_s);
            goto out;
        }
        esp01_layout layout;
        rc = esp01_layout_for(&info, hsize, &layout, &err);
        if (rc == 0 && !layout.runs) {
            romcli_format_size(hsize, size_s, sizeof size_s);
            cli_error("'%s' cannot run with %s of flash: %s", path, size_s,
                      layout.why_not);
            goto out;
        }
        if (rc < 0 && rc != ESP01_E_UNSUPPORTED) {
            cli_lib_error(rc, &err);
            goto out;
        }
        if (rc == ESP01_E_UNSUPPORTED)
            cli_warn("cannot check that '%s' fits this chip: %s", path,
                     err.msg);
        int f = freq >= 0 ? freq : info.flash_freq;
        if ((rc = esp01_image_patch_header(img, len, mode, size_code, f,
                                           &err)) < 0) {
            cli_lib_error(rc, &err);
            goto out;
        }
        romcli_format_size(hsize, size_s, sizeof size_s);
        const char *fname = esp01_flash_freq_name(f);
        fprintf(stderr, "Image header set to: %s, %s, %s\n",
                esp01_flash_mode_name(mode), size_s, fname ? fname : "?");
    }

    struct romcli_progress prog;
    romcli_progress_start(&prog, "Writing");
    o.rom.progress = romcli_progress;
    o.rom.progress_ctx = &prog;
    uint64_t t0 = esp01_now_ms(), wire0 = o.rom.wire_tx;
    if (o.use_stub) {
        esp01_stub_write_stats sst;
        esp01_stub_write_opts wopt = {full};
        rc = esp01_stub_write_flash(&o.rom, (uint32_t)offset, img, len, &wopt,
                                    &sst, &err);
        romcli_progress_end(&prog);
        if (rc < 0) {
            cli_lib_error(rc, &err);
            goto out;
        }
        double secs = (double)(esp01_now_ms() - t0) / 1000.0;
        uint64_t wire = o.rom.wire_tx - wire0;
        char wire_s[32];
        romcli_format_size((uint32_t)wire, wire_s, sizeof wire_s);
        if (sst.differing == 0)
            printf("Flash at 0x%06llx already holds all %zu bytes (MD5 of %u "
                   "sectors on the chip): nothing written, %.1f s\n",
                   (unsigned long long)offset, len, sst.sectors, secs);
        else
            printf("Wrote %zu bytes at 0x%06llx in %.1f s: %u of %u sectors "
                   "differed, %llu bytes on the wire (%.0f%%), %u blank "
                   "sectors only erased; MD5 verified%s\n",
                   len, (unsigned long long)offset, secs, sst.differing,
                   sst.sectors, (unsigned long long)wire,
                   100.0 * (double)wire / (double)len, sst.blank_sectors,
                   sst.rewritten ? " after writing some sectors twice" : "");
    } else {
        esp01_rom_write_stats stats;
        rc = esp01_rom_write_flash(&o.rom, (uint32_t)offset, img, len, &stats,
                                   &err);
        romcli_progress_end(&prog);
        if (rc < 0) {
            cli_lib_error(rc, &err);
            goto out;
        }
        double secs = (double)(esp01_now_ms() - t0) / 1000.0;
        printf("Wrote %zu bytes at 0x%06llx in %.1f s: %u bytes sent, %u blank "
               "sectors only erased", len, (unsigned long long)offset, secs,
               stats.payload_sent, stats.blank_sectors);
        if (stats.restarts || stats.block_retries || stats.repaired_sectors)
            printf(", %u blocks resent, %u restarts, %u sectors rewritten "
                   "after read-back", stats.block_retries, stats.restarts,
                   stats.repaired_sectors);
        printf("\n");
        if (stats.collateral != ESP01_ROM_NO_COLLATERAL)
            cli_warn("the ROM loader cannot erase a single sector alone: "
                     "sector 0x%06x was erased too", stats.collateral);
    }
    code = romcli_finish(&o);
out:
    romcli_close(&o);
    free(img);
    esp01_build_result_free(&built);
    esp01_tree_free(&tree);
    return code;
}
