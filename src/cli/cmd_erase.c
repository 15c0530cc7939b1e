/* esp01 erase: erase the whole flash chip or one region (stub or ROM). */
#include <stdio.h>
#include <string.h>

#include "esp01/stub.h"
#include "romcli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: esp01 erase [--region OFFSET SIZE] [options]\n\n"
            "Erase the whole flash chip (its size is read from the chip), or\n"
            "only OFFSET..OFFSET+SIZE (both multiples of 4096, e.g. 0x99000\n"
            "0x63000 or 612K 396K).  The flasher stub erases exactly that\n"
            "(ERASE_FLASH, ERASE_REGION); with --no-stub the ROM loader does,\n"
            "and a single sector can only go with a neighbour, which is named.\n\n"
            "options:\n%s", romcli_options_help);
}

int cmd_erase(int argc, char **argv)
{
    struct romcli o;
    romcli_init(&o);
    bool region = false;
    uint64_t off = 0, size = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--region") == 0) {
            if (i + 2 >= argc)
                return cli_usage_error("erase", "--region needs OFFSET and SIZE");
            if (!cli_parse_size(argv[i + 1], &off) ||
                !cli_parse_size(argv[i + 2], &size))
                return cli_usage_error("erase", "--region '%s' '%s' is not two "
                                       "numbers", argv[i + 1], argv[i + 2]);
            if (off % 4096 || size % 4096 || size == 0)
                return cli_usage_error("erase", "--region offset and size must "
                                       "be non-zero multiples of 4096 (a "
                                       "sector)");
            region = true;
            i += 2;
            continue;
        }
        int r = romcli_option(&o, "erase", argc, argv, &i);
        if (r < 0)
            return EXIT_USAGE;
        if (r == 0)
            return cli_usage_error("erase", "unknown argument '%s'", argv[i]);
    }
    int rc = romcli_open(&o, "erase", false);
    if (rc != EXIT_OK)
        return rc;
    if (!region) {
        off = 0;
        size = o.flash.size;
    }
    if ((rc = romcli_check_range(&o, off, size, "the region to erase")) != EXIT_OK) {
        romcli_close(&o);
        return rc;
    }
    fprintf(stderr, "Erasing 0x%06llx..0x%06llx (%llu KiB)...\n",
            (unsigned long long)off, (unsigned long long)(off + size),
            (unsigned long long)(size / 1024));
    esp01_err err;
    esp01_err_clear(&err);
    uint32_t extra = ESP01_ROM_NO_COLLATERAL;
    uint64_t t0 = esp01_now_ms();
    if (o.use_stub)
        rc = region ? esp01_stub_erase_region(&o.rom, (uint32_t)off,
                                              (uint32_t)size, &err)
                    : esp01_stub_erase_flash(&o.rom, &err);
    else
        rc = esp01_rom_erase(&o.rom, (uint32_t)off, (uint32_t)size, &extra,
                             &err);
    if (rc < 0) {
        int code = cli_lib_error(rc, &err);
        romcli_close(&o);
        return code;
    }
    if (extra != ESP01_ROM_NO_COLLATERAL)
        cli_warn("the ROM loader cannot erase a single sector alone: sector "
                 "0x%06x was erased too", extra);
    printf("Erased %llu KiB at 0x%06llx in %.1f s\n",
           (unsigned long long)(size / 1024), (unsigned long long)off,
           (double)(esp01_now_ms() - t0) / 1000.0);
    rc = romcli_finish(&o);
    romcli_close(&o);
    return rc;
}
