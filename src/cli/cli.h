/*
 * cli.h - shared pieces of the esp01 tool: the command table entry type,
 * message helpers and small parsers for option values.  The tool owns every
 * message and exit code; the library only returns codes and detail.
 */
#ifndef ESP01_CLI_H
#define ESP01_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <signal.h>

#include "esp01/devfs.h"
#include "esp01/esp01.h"
#include "esp01/rawrepl.h"

/* Exit codes: 0 ok, 1 the operation failed, 2 the command line was wrong. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for `esp01 help` */
};

/* "esp01: <message>" on stderr, then return EXIT_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(ESP01_PRINTF_FORMAT, 1, 2)));
/* "esp01: <command>: <message>" + a pointer to --help; return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(ESP01_PRINTF_FORMAT, 2, 3)));
/* Report a library failure: detail if there is any, else the generic text. */
int cli_lib_error(int code, const esp01_err *err);
/* "esp01: warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(ESP01_PRINTF_FORMAT, 1, 2)));

/* Parse "512K", "1M", "4096", "0x1000" into bytes.  false if malformed. */
bool cli_parse_size(const char *s, uint64_t *out);
/* Parse a plain unsigned number (decimal or 0x hex). */
bool cli_parse_u64(const char *s, uint64_t *out);

/* True when stdout/stderr are terminals (for progress bars). */
bool cli_stderr_is_tty(void);

/* Device connection shared by the raw REPL commands (device.c). */
struct cli_dev_opts {
    const char *port;
    uint32_t baud;
    uint32_t timeout_s; /* 0: the command's default */
    esp01_devfs_encoding encoding;
    bool no_paste; /* --no-paste or ESP01_NO_PASTE=1 */
    /* WebREPL (--port ws://...): --password or ESP01_WEBREPL_PASSWORD, else
     * asked on the terminal; --webrepl-files for the WA file protocol. */
    const char *password;
    bool webrepl_files;
};
/* Set by SIGINT once cli_dev_catch_sigint() ran; forwarded to the device. */
extern volatile sig_atomic_t cli_interrupted;
extern const char cli_dev_options_help[];
void cli_dev_opts_init(struct cli_dev_opts *o);
/* Consume a common option at argv[i]: count used, 0 if not one, -1 usage. */
int cli_dev_opt(struct cli_dev_opts *o, int argc, char **argv, int i,
                const char *cmd);
/*
 * The start of every device command's argument loop: connection options
 * (advance *i past them) and --help (print `usage` and the options).
 */
enum { CLI_ARG_MINE, CLI_ARG_TAKEN, CLI_ARG_HELP, CLI_ARG_BAD };
int cli_dev_arg(struct cli_dev_opts *o, int argc, char **argv, int *i,
                const char *cmd, const char *usage);
void cli_dev_catch_sigint(void);
/* Open (once per process) and enter the raw REPL; 0 or an exit code. */
int cli_dev_repl(const struct cli_dev_opts *o, esp01_rawrepl **out);
/* The path of the open port (after cli_dev_repl), "" before. */
const char *cli_dev_port(void);
int cli_dev_fs(const struct cli_dev_opts *o, esp01_devfs **out);
/* Leave the raw REPL and close; cli_dev_forget closes without a word. */
void cli_dev_close(void);
void cli_dev_forget(void);
/* "x" for ":x", NULL when `arg` is not a device path. */
const char *cli_dev_path(const char *arg);
int cli_dev_error(int rc, const esp01_err *err);
/* dir + '/' + name (dir "" means the current directory); false if too long. */
bool cli_dev_join(char *out, size_t cap, const char *dir, const char *name);
/* Write one device file with progress and a one-line report. */
int cli_dev_upload(esp01_devfs *fs, const char *label, const char *target,
                   const uint8_t *data, size_t len);
/* Run code with output streamed and Ctrl-C forwarded; an exit code. */
int cli_dev_run_code(const struct cli_dev_opts *o,
                     const uint8_t *code, size_t len);
/*
 * WebREPL (dev_webrepl.c): the password from the options, the environment
 * or the terminal (twice with `confirm`), into `out`, checked.  Open
 * a ws:// port, retrying refused connections for `retry_ms` (a board
 * restarting its server after a reset).  Both: 0 or a library code with
 * the reason in `err`.
 */
int cli_webrepl_password(const struct cli_dev_opts *o, const char *what,
                         bool confirm, char *out, size_t cap, esp01_err *err);
int cli_webrepl_open(const struct cli_dev_opts *o, uint32_t retry_ms,
                     esp01_port **out, esp01_err *err);
/* mkdir that accepts an existing directory. */
int cli_dev_ensure_dir(esp01_devfs *fs, const char *path);
/* Parse `CMD [options] :DIR...` and apply `op` to each directory. */
int cli_dev_each_dir(const char *cmd, const char *usage, int argc, char **argv,
                     int (*op)(esp01_devfs *fs, const char *path, esp01_err *err));

/* Every subcommand, one per cmd_*.c. */
int cmd_build(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_firmware(int argc, char **argv);
int cmd_fs(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_ports(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_flash(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_tree(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_mkdir(int argc, char **argv);
int cmd_rmdir(int argc, char **argv);
int cmd_df(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_repl(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_webrepl(int argc, char **argv);
int cmd_mip(int argc, char **argv);
/* `esp01 info` with no FILE: what the connected board is (not in the
 * command table; the info command calls it). */
int cmd_info_device(int argc, char **argv);

#endif
