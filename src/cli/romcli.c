/*
 * Shared by probe, flash and erase: the connection options, opening the
 * port, connecting to the ROM loader, and the progress display.
 */
#include "romcli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/stub.h"
#include "os/os.h"
#include "portpick.h"

volatile sig_atomic_t romcli_cancel;

const char romcli_options_help[] =
    "  --port PATH        serial port (default: $ESP01_PORT, else the only USB\n"
    "                     serial port: see esp01 ports)\n"
    "  --baud N           rate for the transfer once esp01's flasher stub runs\n"
    "                     (default 460800; steps down by itself when the line\n"
    "                     or adapter does not carry it).  The ROM loader is\n"
    "                     always reached at 115200\n"
    "  --no-stub          talk to the ROM loader only (115200, no compression,\n"
    "                     no flash read); writing and erasing still work\n"
    "  --before MODE      default-reset: pulse DTR->GPIO0 / RTS->EN (adapters\n"
    "                     with auto-reset wiring); no-reset: you hold GPIO0 low\n"
    "                     and power-cycle the board (most ESP-01 adapters)\n"
    "  --after MODE       hard-reset (pulse RTS->EN), run (leave the loader and\n"
    "                     start the firmware), no-reset (stay in the loader)\n"
    "  --wait SECONDS     how long to keep trying to connect (default 10 with\n"
    "                     default-reset, 20 with no-reset)\n";

void romcli_init(struct romcli *o)
{
    memset(o, 0, sizeof *o);
    o->baud = ROMCLI_STUB_BAUD;
    o->before = ESP01_ROM_BEFORE_DEFAULT_RESET;
    o->after = ESP01_ROM_AFTER_HARD_RESET;
}

int romcli_option(struct romcli *o, const char *cmd, int argc, char **argv,
                  int *i)
{
    const char *a = argv[*i];
    if (strcmp(a, "--no-stub") == 0) {
        o->no_stub = true;
        return 1;
    }
    const char *names[] = {"--port", "--baud", "--before", "--after", "--wait"};
    int which = -1;
    for (int k = 0; k < 5; k++)
        if (strcmp(a, names[k]) == 0)
            which = k;
    if (which < 0)
        return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "%s needs a value", a);
        return -1;
    }
    const char *v = argv[++*i];
    uint64_t n;
    switch (which) {
    case 0:
        o->port = v;
        break;
    case 1:
        if (!cli_parse_u64(v, &n) || n < 9600 || n > 4000000) {
            cli_usage_error(cmd, "--baud '%s' is not a baud rate", v);
            return -1;
        }
        o->baud = (uint32_t)n;
        break;
    case 2:
        if (strcmp(v, "default-reset") == 0)
            o->before = ESP01_ROM_BEFORE_DEFAULT_RESET;
        else if (strcmp(v, "no-reset") == 0)
            o->before = ESP01_ROM_BEFORE_NO_RESET;
        else {
            cli_usage_error(cmd, "--before must be default-reset or no-reset");
            return -1;
        }
        break;
    case 3:
        if (strcmp(v, "hard-reset") == 0)
            o->after = ESP01_ROM_AFTER_HARD_RESET;
        else if (strcmp(v, "no-reset") == 0)
            o->after = ESP01_ROM_AFTER_NO_RESET;
        else if (strcmp(v, "run") == 0)
            o->after = ESP01_ROM_AFTER_RUN;
        else {
            cli_usage_error(cmd, "--after must be hard-reset, run or no-reset");
            return -1;
        }
        break;
    case 4:
        if (!cli_parse_u64(v, &n) || n == 0 || n > 3600) {
            cli_usage_error(cmd, "--wait '%s' is not a number of seconds", v);
            return -1;
        }
        o->wait_s = (uint32_t)n;
        break;
    }
    return 1;
}

static void tell_user(void *ctx, uint32_t wait_ms)
{
    (void)ctx;
    fprintf(stderr,
            "Hold GPIO0 low and power-cycle the board (waiting up to %u s)...\n",
            (wait_ms + 999) / 1000);
}

int romcli_connect(struct romcli *o, const char *cmd)
{
    if (!o->port || !*o->port)
        o->port = getenv("ESP01_PORT");
    (void)cmd;
    int rc;
    if ((!o->port || !*o->port) && (rc = portpick_auto(&o->port)) != EXIT_OK)
        return rc;
    esp01_err err;
    esp01_err_clear(&err);
    rc = esp01_port_open_serial(&o->port_handle, o->port,
                                    ROMCLI_CONNECT_BAUD, false, false, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    esp01_rom_init(&o->rom, o->port_handle);
    o->rom.cancel = &romcli_cancel;
    esp01_os_catch_interrupt(&romcli_cancel);
    esp01_rom_connect_opts copts = {o->before, o->wait_s * 1000u, tell_user,
                                    NULL};
    rc = esp01_rom_connect(&o->rom, &copts, &err);
    if (rc == 0)
        rc = esp01_rom_identify(&o->rom, &o->chip, &err);
    if (rc < 0) {
        int code = cli_lib_error(rc, &err);
        romcli_close(o);
        return code;
    }
    o->connected = true;
    return EXIT_OK;
}

int romcli_flash_id(struct romcli *o)
{
    esp01_err err;
    esp01_err_clear(&err);
    int rc = esp01_rom_flash_id(&o->rom, &o->flash, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    return EXIT_OK;
}

int romcli_stub(struct romcli *o, const char *cmd, bool required)
{
    if (o->no_stub) {
        if (required)
            return cli_usage_error(cmd, "needs esp01's flasher stub (the ROM "
                                   "loader cannot do it): drop --no-stub");
        return EXIT_OK;
    }
    esp01_err err;
    esp01_err_clear(&err);
    bool started = false, was_running = o->rom.stub_running;
    int rc = esp01_stub_start(&o->rom, &started, &err);
    if (rc < 0) {
        if (required)
            return cli_error("the flasher stub did not start: %s", err.msg);
        cli_warn("the flasher stub did not start (%s); going on with the ROM "
                 "loader", err.msg);
        if (started) {
            /* The chip jumped to the upload: only a reset brings the loader
             * back. */
            uint32_t flash = o->rom.flash_size, jedec = o->rom.jedec;
            esp01_rom_init(&o->rom, o->port_handle);
            o->rom.cancel = &romcli_cancel;
            esp01_rom_connect_opts copts = {o->before, o->wait_s * 1000u,
                                            tell_user, NULL};
            esp01_err_clear(&err);
            if ((rc = esp01_rom_connect(&o->rom, &copts, &err)) < 0)
                return cli_lib_error(rc, &err);
            o->rom.flash_size = flash;
            o->rom.jedec = jedec;
            if (o->rom.stub_running) {
                /* It did start after all, only late. */
                o->use_stub = true;
                return EXIT_OK;
            }
        }
        o->no_stub = true;
        return EXIT_OK;
    }
    o->use_stub = true;
    if (was_running)
        fprintf(stderr, "Stub:      already running, used as it is\n");
    else
        fprintf(stderr, "Stub:      %s running\n", esp01_stub_version());
    uint32_t got = 0;
    if ((rc = esp01_stub_set_baud(&o->rom, o->baud, &got, &err)) < 0)
        return cli_lib_error(rc, &err);
    if (got != o->baud)
        cli_warn("%u baud did not carry (adapter or line); using %u", o->baud,
                 got);
    else if (got != ROMCLI_CONNECT_BAUD)
        fprintf(stderr, "Baud:      %u\n", got);
    return EXIT_OK;
}

int romcli_open(struct romcli *o, const char *cmd, bool stub_required)
{
    int rc = romcli_connect(o, cmd);
    if (rc != EXIT_OK)
        return rc;
    /* The stub first: the flash id then comes through it at its rate, as
     * esptool reads it, instead of a dozen requests at the ROM's 115200. */
    if ((rc = romcli_stub(o, cmd, stub_required)) != EXIT_OK ||
        (rc = romcli_flash_id(o)) != EXIT_OK)
        romcli_close(o);
    return rc;
}

int romcli_check_range(struct romcli *o, uint64_t off, uint64_t size,
                       const char *what)
{
    if (off + size <= o->flash.size)
        return EXIT_OK;
    char s[32];
    romcli_format_size(o->flash.size, s, sizeof s);
    return cli_error("%s (0x%06llx..0x%06llx) is past the end of the %s flash",
                     what, (unsigned long long)off,
                     (unsigned long long)(off + size), s);
}

int romcli_finish(struct romcli *o)
{
    esp01_err err;
    esp01_err_clear(&err);
    int rc = o->use_stub ? esp01_stub_finish(&o->rom, o->after, &err)
                         : esp01_rom_finish(&o->rom, o->after, &err);
    if (rc == ESP01_E_INTERRUPTED)
        return cli_lib_error(rc, &err);
    /* The work asked for is done and checked by now; a board left in the
     * loader or the stub is found by the next esp01 run, so this alone is
     * no failure. */
    if (rc < 0)
        cli_warn("%s; the board may still be in the loader: reset or "
                 "power-cycle it to run its program", err.msg);
    return EXIT_OK;
}

void romcli_close(struct romcli *o)
{
    if (o->port_handle)
        esp01_port_close(o->port_handle);
    o->port_handle = NULL;
    o->connected = false;
}

const char *romcli_chip_name(const esp01_chip_info *chip)
{
    return chip->is_esp8285 ? "ESP8285" : "ESP8266EX";
}

void romcli_format_size(uint32_t bytes, char *out, size_t cap)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        snprintf(out, cap, "%u MiB", bytes / (1024 * 1024));
    else if (bytes % 1024 == 0)
        snprintf(out, cap, "%u KiB", bytes / 1024);
    else
        snprintf(out, cap, "%u bytes", bytes);
}

/* ---- progress ------------------------------------------------------------ */

void romcli_progress_start(struct romcli_progress *p, const char *what)
{
    memset(p, 0, sizeof *p);
    p->what = what;
    p->tty = cli_stderr_is_tty();
    p->start_ms = esp01_now_ms();
    p->last_step = -1;
}

void romcli_progress(void *ctx, const esp01_rom_progress *ev)
{
    struct romcli_progress *p = ctx;
    uint64_t now = esp01_now_ms();
    if (ev->phase == ESP01_ROM_PHASE_RETRY) {
        p->retries++;
        return;
    }
    if (ev->total == 0)
        return; /* a comparison before the amount of work is known */
    if (!p->tty) {
        int step = ev->total ? (int)((uint64_t)ev->done * 10 / ev->total) : 0;
        if (step != p->last_step) {
            p->last_step = step;
            fprintf(stderr, "%s: %3d%% (%u of %u bytes)\n", p->what, step * 10,
                    ev->done, ev->total);
        }
        return;
    }
    if (now - p->last_draw_ms < 200 && ev->done < ev->total)
        return;
    p->last_draw_ms = now;
    double secs = (double)(now - p->start_ms) / 1000.0;
    double rate = secs > 0.2 ? ev->payload_done / secs : 0;
    int width = 24;
    int fill = ev->total ? (int)((uint64_t)ev->done * (uint64_t)width / ev->total) : 0;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    char eta[32] = "--:--";
    if (rate > 0) {
        unsigned left = (unsigned)((ev->payload_total - ev->payload_done) / rate);
        snprintf(eta, sizeof eta, "%u:%02u", left / 60, left % 60);
    }
    fprintf(stderr, "\r%s [%s] %7.1f/%.1f KiB  %5.1f KB/s  ETA %s ", p->what,
            bar, ev->done / 1024.0, ev->total / 1024.0, rate / 1000.0, eta);
    p->drawn = true;
}

void romcli_progress_end(struct romcli_progress *p)
{
    if (p->tty && p->drawn)
        fputc('\n', stderr);
}
