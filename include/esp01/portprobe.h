/*
 * portprobe.h - what answers on a serial port: MicroPython's raw REPL, the
 * ESP8266 ROM loader, or nothing.
 *
 * The port is opened with DTR and RTS released, so auto-reset wiring does
 * not reset the board.  First Ctrl-C: MicroPython answers it (a prompt, or
 * the traceback of the program it interrupted: not a reset), and is then
 * asked through the raw REPL and left at its friendly prompt.  The ROM
 * loader ignores it; a port that stays silent is sent SYNC, which only a
 * chip already in download mode answers (a MicroPython board never gets
 * SYNC frames typed into its REPL); with `reset`, DTR/RTS
 * pulse it into the loader first and a hard reset afterwards starts its
 * firmware again.
 */
#ifndef ESP01_PORTPROBE_H
#define ESP01_PORTPROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum esp01_port_answer {
    ESP01_ANSWER_NOTHING = 0,
    ESP01_ANSWER_MICROPYTHON,
    ESP01_ANSWER_ROM,          /* the ROM loader, or a flasher stub */
} esp01_port_answer;

typedef struct esp01_port_probe_opts {
    uint32_t repl_ms; /* how long to wait for an answer to Ctrl-C (0: 1500) */
    uint32_t rom_ms;  /* how long to send SYNC (0: 1000) */
    bool reset;       /* pulse DTR/RTS into the ROM loader if nothing answers */
} esp01_port_probe_opts;

typedef struct esp01_port_probe {
    esp01_port_answer answer;
    /* MicroPython: "v1.24.1 on 2024-11-29", sys.implementation._build
     * ("ESP8266_GENERIC-FLASH_1M", v1.25+), os.uname().machine
     * ("ESP module (1M) with ESP8266"); printable ASCII only. */
    char mp_version[96];
    char mp_build[64];
    char mp_machine[96];
    /* ROM loader */
    bool is_esp8285;
    bool stub;                 /* a flasher stub answered, not the ROM */
    uint32_t jedec;
    uint32_t flash_size;       /* bytes; 0 when the flash did not answer */
    bool reset_used;
    char detail[ESP01_ERR_MAX]; /* why nothing answered, or why no size */
} esp01_port_probe;

/*
 * Probe `path`.  Fails only when the port cannot be opened (busy, no
 * permission, gone); a port where nothing answers gives
 * ESP01_ANSWER_NOTHING with the reason in `detail`.
 */
int esp01_port_probe_path(const char *path, const esp01_port_probe_opts *opts,
                          esp01_port_probe *out, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
