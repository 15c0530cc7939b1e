/*
 * romcli.h - the pieces probe, flash and erase share: connection options
 * (--port/ESP01_PORT, --baud, --before, --after, --wait), connecting to
 * the ROM loader with one-line errors, and the progress display.
 */
#ifndef ESP01_ROMCLI_H
#define ESP01_ROMCLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "esp01/port.h"
#include "esp01/rom.h"

/* The ROM loader auto-bauds to whatever the host sends at first; esp01
 * always connects at 115200 and lets the stub go faster. */
#define ROMCLI_CONNECT_BAUD 115200u
#define ROMCLI_STUB_BAUD 460800u

struct romcli {
    const char *port;
    uint32_t baud;           /* the stub's rate (--baud) */
    bool no_stub;            /* --no-stub: the ROM loader only */
    bool use_stub;           /* the stub is running and in use */
    esp01_rom_before before;
    esp01_rom_after after;
    uint32_t wait_s;
    esp01_port *port_handle;
    esp01_rom rom;
    esp01_chip_info chip;
    esp01_flash_id flash;
    bool connected;
};

extern const char romcli_options_help[];
/* Set by SIGINT while a command talks to the chip. */
extern volatile sig_atomic_t romcli_cancel;

void romcli_init(struct romcli *o);
/* 1: argv[*i] (and its value) consumed; 0: not ours; -1: usage error shown. */
int romcli_option(struct romcli *o, const char *cmd, int argc, char **argv,
                  int *i);
/* Open, connect, identify.  EXIT_OK or the exit code after the message. */
int romcli_connect(struct romcli *o, const char *cmd);
int romcli_flash_id(struct romcli *o);
/*
 * Start the flasher stub (unless --no-stub) and move to --baud.  When it
 * does not start and `required` is false, say so in one line, reconnect to
 * the ROM loader and go on without it.  EXIT_OK or an exit code.
 */
int romcli_stub(struct romcli *o, const char *cmd, bool required);
/* romcli_connect, romcli_stub and romcli_flash_id in turn; the port is
 * closed again when one fails. */
int romcli_open(struct romcli *o, const char *cmd, bool stub_required);
/* EXIT_OK when [off, off + size) lies on the chip; else the message,
 * naming `what`, and EXIT_FAIL. */
int romcli_check_range(struct romcli *o, uint64_t off, uint64_t size,
                       const char *what);
/* Leave the chip as --after says.  The work is done by then, so a failure
 * here is a warning and EXIT_OK; only an interrupt is an error. */
int romcli_finish(struct romcli *o);
void romcli_close(struct romcli *o);
const char *romcli_chip_name(const esp01_chip_info *chip);
void romcli_format_size(uint32_t bytes, char *out, size_t cap);

struct romcli_progress {
    const char *what;
    bool tty, drawn;
    uint64_t start_ms, last_draw_ms;
    int last_step;
    unsigned retries;
};
void romcli_progress_start(struct romcli_progress *p, const char *what);
void romcli_progress(void *ctx, const esp01_rom_progress *ev);
void romcli_progress_end(struct romcli_progress *p);

#endif
