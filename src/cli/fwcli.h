/*
 * fwcli.h - official firmware for the tool's commands: where it comes from
 * (ESP01_FIRMWARE_URL), the cache, download progress, and what
 * `--firmware latest|VERSION` means for build and flash.
 */
#ifndef ESP01_FWCLI_H
#define ESP01_FWCLI_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "esp01/fwindex.h"
#include "esp01/http.h"

struct fwcli {
    const char *base;   /* ESP01_FIRMWARE_URL, else micropython.org */
    char cache[4096];
    esp01_http_opts http;
    volatile sig_atomic_t *old_cancel; /* Ctrl-C's flag before; put back by fwcli_done() */
};

/* Read the environment and catch Ctrl-C (to abandon a download); EXIT_OK
 * or an exit code after the message. */
int fwcli_init(struct fwcli *c);
/* Give Ctrl-C back to whoever had it before fwcli_init(). */
void fwcli_done(struct fwcli *c);

/* The newest release's tag ("v1.24.1") on the board page, into `tag`;
 * false (and nothing said) when the page cannot be read. */
bool fwcli_latest_tag(struct fwcli *c, char *tag, size_t cap);

/* Does --firmware's value name a release ("latest", "1.24.1", "v1.24.1",
 * a preview tag) rather than a file?  An existing file always wins. */
bool fwcli_is_release(const char *spec);

/*
 * The firmware `spec` ("latest" or a version) names, in `variant`: from
 * the cache when it is there, else downloaded into it.  "latest" asks
 * micropython.org for the newest release; offline, the newest cached one
 * is used and the message says so.  Progress and what was done go to
 * stderr.  `path` gets the cached file.  EXIT_OK or an exit code.
 */
int fwcli_resolve(struct fwcli *c, const char *spec, esp01_fw_variant variant, char *path,
                  size_t cap, esp01_fw_file *chosen);

/*
 * For build and flash: the variant a chip of `chip_size` needs for a
 * project (1 MiB -> 1M, 2 MiB+ -> generic), or `forced` when >= 0; then
 * fwcli_resolve().  A 512 KiB chip is refused with what would work.
 */
int fwcli_for_project(const char *cmd, const char *spec, uint32_t chip_size, int forced,
                      char *path, size_t cap);

#endif
