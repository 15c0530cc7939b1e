/* esp01 probe: what chip and flash are on the other end of the cable. */
#include <stdio.h>
#include <string.h>

#include "romcli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: esp01 probe [options]\n\n"
            "Connect to the ESP8266 ROM loader and report the chip, MAC, chip\n"
            "id, crystal and the flash chip's JEDEC id and size, with the\n"
            "MicroPython build and flash mode that fit.\n\n"
            "options:\n%s", romcli_options_help);
}

static const char *variant_advice(uint32_t size)
{
    if (size < 512 * 1024)
        return "too small for MicroPython (it needs 512 KiB or more)";
    if (size < 1024 * 1024)
        return "MicroPython's 512K build (ESP8266_GENERIC-FLASH_512K): no "
               "filesystem";
    if (size < 2 * 1024 * 1024)
        return "MicroPython's 1M build (ESP8266_GENERIC-FLASH_1M): firmware "
               "plus a littlefs filesystem";
    return "MicroPython's generic build (ESP8266_GENERIC), filesystem from "
           "0x100000";
}

int cmd_probe(int argc, char **argv)
{
    struct romcli o;
    romcli_init(&o);
    o.after = ESP01_ROM_AFTER_NO_RESET;
    bool after_given = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--after") == 0)
            after_given = true;
        int r = romcli_option(&o, "probe", argc, argv, &i);
        if (r < 0)
            return EXIT_USAGE;
        if (r == 0)
            return cli_usage_error("probe", "unknown argument '%s'", argv[i]);
    }
    if (!after_given)
        o.after = ESP01_ROM_AFTER_NO_RESET;
    int rc = romcli_connect(&o, "probe");
    if (rc != EXIT_OK)
        return rc;
    const esp01_chip_info *c = &o.chip;
    printf("Chip:        %s\n", romcli_chip_name(c));
    if (c->mac_known)
        printf("MAC:         %02x:%02x:%02x:%02x:%02x:%02x\n", c->mac[0],
               c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
    else
        printf("MAC:         unknown (OUI fuse 0x%02x) ..:..:..:%02x:%02x:%02x\n",
               (c->efuse[1] >> 16) & 0xFF, c->mac[3], c->mac[4], c->mac[5]);
    printf("Chip id:     0x%06x\n", c->chip_id);
    printf("Crystal:     %u MHz\n", c->crystal_mhz);
    rc = romcli_flash_id(&o);
    if (rc != EXIT_OK) {
        romcli_close(&o);
        return rc;
    }
    const esp01_flash_id *f = &o.flash;
    char size[32];
    romcli_format_size(f->size, size, sizeof size);
    printf("Flash id:    %02x%02x%02x (%s, type 0x%02x, capacity 0x%02x)\n",
           f->manufacturer, f->type, f->capacity,
           f->vendor ? f->vendor : "unknown manufacturer", f->type,
           f->capacity);
    printf("Flash size:  %s\n", size);
    printf("Firmware:    %s\n", variant_advice(f->size));
    printf("Flash mode:  dout%s\n",
           c->is_esp8285 ? " (the ESP8285's built-in flash needs it)"
                         : " (works on every ESP-01; esp01 flash uses it "
                           "unless told otherwise)");
    rc = romcli_finish(&o);
    romcli_close(&o);
    return rc;
}
