/*
 * cli.h - shared pieces of the esp01 tool: the command table entry type,
 * message helpers and small parsers for option values.  The tool owns every
 * message and exit code; the library only returns codes and detail.
 */
#ifndef ESP01_CLI_H
#define ESP01_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "esp01/esp01.h"

/* Exit codes: 0 ok, 1 the operation failed, 2 the command line was wrong. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for `esp01 help` */
};

/* "esp01: <message>" on stderr, then return EXIT_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "esp01: <command>: <message>" + a pointer to --help; return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Report a library failure: detail if there is any, else the generic text. */
int cli_lib_error(int code, const esp01_err *err);
/* "esp01: warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse "512K", "1M", "4096", "0x1000" into bytes.  false if malformed. */
bool cli_parse_size(const char *s, uint64_t *out);
/* Parse a plain unsigned number (decimal or 0x hex). */
bool cli_parse_u64(const char *s, uint64_t *out);

/* True when stdout/stderr are terminals (for progress bars). */
bool cli_stderr_is_tty(void);

/* Every subcommand, one per cmd_*.c. */
int cmd_build(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_fs(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_flash(int argc, char **argv);

#endif
