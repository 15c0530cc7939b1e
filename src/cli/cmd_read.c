/* esp01 read: copy flash from the chip into a file, through the stub. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/fileio.h"
#include "esp01/stub.h"
#include "romcli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: esp01 read [OFFSET SIZE] -o FILE [options]\n\n"
            "Copy flash into FILE: the whole chip (its size from the JEDEC id)\n"
            "or SIZE bytes from OFFSET (e.g. 0x99000 392K).  The flasher stub\n"
            "sends it in acknowledged 4 KiB frames and an MD5 of each 64 KiB is\n"
            "checked; FILE appears only when everything arrived.  The result\n"
            "works with 'esp01 info FILE' and 'esp01 fs ls FILE'.\n\n"
            "  -o, --output FILE  where to write (required)\n"
            "options:\n%s", romcli_options_help);
}

int cmd_read(int argc, char **argv)
{
    struct romcli o;
    romcli_init(&o);
    const char *out = NULL;
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("read", "%s needs a file name", a);
            out = argv[++i];
            continue;
        }
        int r = romcli_option(&o, "read", argc, argv, &i);
        if (r < 0)
            return EXIT_USAGE;
        if (r == 1)
            continue;
        if (a[0] == '-' && a[1])
            return cli_usage_error("read", "unknown option '%s'", a);
        if (npos == 2)
            return cli_usage_error("read", "too many arguments ('%s')", a);
        pos[npos++] = a;
    }
    if (!out)
        return cli_usage_error("read", "where to? give -o FILE");
    if (npos == 1)
        return cli_usage_error("read", "give both OFFSET and SIZE, or neither");
    uint64_t off = 0, size = 0;
    if (npos == 2 && (!cli_parse_size(pos[0], &off) ||
                      !cli_parse_size(pos[1], &size) || size == 0 ||
                      off >= 16u << 20 || size > 16u << 20))
        return cli_usage_error("read", "'%s %s' is not an offset and a size",
                               pos[0], pos[1]);
    if (o.no_stub)
        return cli_usage_error("read", "needs esp01's flasher stub (the ROM "
                               "loader cannot read flash): drop --no-stub");
    int rc = romcli_open(&o, "read", true);
    if (rc != EXIT_OK)
        return rc;
    if (npos == 0)
        size = o.flash.size;
    if ((rc = romcli_check_range(&o, off, size, "the range to read")) != EXIT_OK) {
        romcli_close(&o);
        return rc;
    }
    uint8_t *buf = malloc((size_t)size);
    if (!buf) {
        romcli_close(&o);
        return cli_error("out of memory for %llu bytes",
                         (unsigned long long)size);
    }
    struct romcli_progress prog;
    romcli_progress_start(&prog, "Reading");
    o.rom.progress = romcli_progress;
    o.rom.progress_ctx = &prog;
    esp01_err err;
    esp01_err_clear(&err);
    uint64_t t0 = esp01_now_ms();
    rc = esp01_stub_read_flash(&o.rom, (uint32_t)off, (uint32_t)size, buf,
                               &err);
    romcli_progress_end(&prog);
    int code = EXIT_OK;
    if (rc == 0)
        rc = esp01_write_file_atomic(out, buf, (size_t)size, &err);
    if (rc < 0) {
        code = cli_lib_error(rc, &err);
    } else {
        double secs = (double)(esp01_now_ms() - t0) / 1000.0;
        printf("Read %llu bytes at 0x%06llx in %.1f s (%.1f KB/s) into %s; "
               "MD5 checked\n", (unsigned long long)size,
               (unsigned long long)off, secs,
               secs > 0 ? (double)size / secs / 1000.0 : 0.0, out);
        code = romcli_finish(&o);
    }
    free(buf);
    romcli_close(&o);
    return code;
}
