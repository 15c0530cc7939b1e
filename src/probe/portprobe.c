/*
 * portprobe.c - MicroPython or the ROM loader on a serial port
 * (portprobe.h).  Above src/flash/ (the ROM loader client) and
 * src/device/ (the raw REPL), which are peers and cannot ask each other.
 */
#include "esp01/portprobe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/port.h"
#include "esp01/rawrepl.h"
#include "esp01/rom.h"

/* One "key value" line per fact; what the firmware lacks is skipped. */
static const char ask[] =
    "import sys\n"
    "print('version',sys.version)\n"
    "try:print('build',sys.implementation._build)\nexcept:pass\n"
    "try:\n import os;print('machine',os.uname().machine)\nexcept:pass\n";

/* a + b, cut to fit. */
static void join2(char *dst, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= cap)
        la = cap - 1;
    if (lb >= cap - la)
        lb = cap - la - 1;
    memcpy(dst, a, la);
    memcpy(dst + la, b, lb);
    dst[la + lb] = '\0';
}

/* The value of `key` in `text`, printable ASCII only. */
static void value(const char *text, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *l = text; l && *l;) {
        const char *eol = strchr(l, '\n');
        size_t n = eol ? (size_t)(eol - l) : strlen(l);
        if (n > kl && !strncmp(l, key, kl) && l[kl] == ' ') {
            size_t o = 0;
            for (size_t i = kl + 1; i < n && o + 1 < cap; i++) {
                unsigned char c = (unsigned char)l[i];
                if (c == '\r')
                    continue;
                out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
            }
            out[o] = '\0';
            return;
        }
        l = eol ? eol + 1 : NULL;
    }
}

/*
 * Ctrl-C: MicroPython always answers it (a prompt, or the traceback of
 * the program it stopped); the ROM loader ignores bytes outside a SLIP
 * frame.  Returns how many bytes came back within `ms` (reading stops
 * once the answer has been quiet for 100 ms).
 */
static size_t poke(esp01_port *port, uint32_t ms)
{
    static const uint8_t ctrl_c[] = "\r\x03\x03";
    port->ops->discard_input(port, NULL);
    if (esp01_port_write(port, ctrl_c, sizeof ctrl_c - 1, esp01_deadline_in(500), NULL) < 0)
        return 0;
    uint64_t end = esp01_deadline_in(ms);
    size_t got = 0;
    uint8_t buf[256];
    for (;;) {
        uint64_t until = got ? esp01_deadline_in(100) : end;
        if (until > end)
            until = end;
        int n = esp01_port_read(port, buf, sizeof buf, until, NULL);
        if (n <= 0)
            return got;
        got += (size_t)n;
    }
}

static void ask_micropython(esp01_port *port, esp01_port_probe *out)
{
    esp01_rawrepl r;
    esp01_rawrepl_init(&r, port);
    r.paste_mode = ESP01_PASTE_NEVER;
    esp01_err err;
    if (esp01_rawrepl_enter(&r, false, 5000, &err) < 0) {
        join2(out->detail, sizeof out->detail,
              "something answered Ctrl-C, but not as MicroPython's raw REPL does: ",
              err.msg);
        return;
    }
    char *text = NULL;
    int rc = esp01_rawrepl_exec_capture(&r, ask, 2048, &text, NULL, 3000, &err);
    if (rc == 0) {
        char v[sizeof out->mp_version];
        value(text, "version", v, sizeof v);
        /* sys.version: "3.4.0; MicroPython v1.24.1 on 2024-11-29" */
        const char *mp = strstr(v, "MicroPython ");
        snprintf(out->mp_version, sizeof out->mp_version, "%s", mp ? mp + 12 : v);
        value(text, "build", out->mp_build, sizeof out->mp_build);
        value(text, "machine", out->mp_machine, sizeof out->mp_machine);
        out->answer = ESP01_ANSWER_MICROPYTHON;
    } else {
        join2(out->detail, sizeof out->detail, "a raw REPL answered, but: ", err.msg);
    }
    free(text);
    esp01_rawrepl_leave(&r, NULL);
}

static void ask_rom(esp01_port *port, const esp01_port_probe_opts *o, esp01_port_probe *out)
{
    esp01_rom *rom = malloc(sizeof *rom);
    if (!rom) {
        snprintf(out->detail, sizeof out->detail, "out of memory");
        return;
    }
    esp01_rom_init(rom, port);
    esp01_err err;
    esp01_rom_connect_opts c = {o->reset ? ESP01_ROM_BEFORE_DEFAULT_RESET
                                         : ESP01_ROM_BEFORE_NO_RESET,
                                o->rom_ms ? o->rom_ms : 1000, NULL, NULL};
    esp01_chip_info chip;
    int rc = esp01_rom_connect(rom, &c, &err);
    if (rc == 0)
        rc = esp01_rom_identify(rom, &chip, &err);
    if (rc < 0) {
        if (rc == ESP01_E_TIMEOUT)
            join2(out->detail, sizeof out->detail, "",
                  "silent: no answer to Ctrl-C (MicroPython) or to SYNC (the ROM loader)");
        else
            join2(out->detail, sizeof out->detail, "", err.msg);
        free(rom);
        return;
    }
    out->answer = ESP01_ANSWER_ROM;
    out->is_esp8285 = chip.is_esp8285;
    out->stub = rom->stub_running;
    out->reset_used = o->reset;
    esp01_flash_id id;
    if (esp01_rom_flash_id(rom, &id, &err) == 0) {
        out->jedec = id.jedec;
        out->flash_size = id.size;
    } else {
        join2(out->detail, sizeof out->detail, "", err.msg);
    }
    /* Leave it as it was found: in the loader, or running its firmware
     * again when the probe reset it. */
    esp01_rom_finish(rom, o->reset ? ESP01_ROM_AFTER_HARD_RESET : ESP01_ROM_AFTER_NO_RESET,
                     NULL);
    free(rom);
}

int esp01_port_probe_path(const char *path, const esp01_port_probe_opts *opts,
                          esp01_port_probe *out, esp01_err *err)
{
    memset(out, 0, sizeof *out);
    esp01_port *port;
    int rc = esp01_port_open_serial(&port, path, 115200, false, false, err);
    if (rc < 0)
        return rc;
    /* Only a port that stays silent is sent SYNC: a MicroPython board,
     * even a slow or busy one, would take the frames as typed text. */
    if (poke(port, opts->repl_ms ? opts->repl_ms : 1500) > 0)
        ask_micropython(port, out);
    else
        ask_rom(port, opts, out);
    esp01_port_close(port);
    return 0;
}
