/*
 * os.h - what the library and the tool need from the operating system,
 * beyond C11: files and directories, time, Ctrl-C, the terminal, child
 * processes and TCP.  Internal (not installed); every file outside src/os/
 * reaches the system through here or through the public port.h,
 * serialports.h, http.h and hash.h, so a new platform is a new folder
 * under src/os/ (posix/ serves Linux and macOS).
 *
 * Conventions, as in the rest of the library:
 *   - functions that can fail return 0 (or a count) on success and a
 *     negative ESP01_E_* code on failure;
 *   - on failure `err` (may be NULL) holds only the system's reason
 *     ("No such file or directory"), never the path or what was being
 *     done: the caller knows those and words the message itself;
 *   - ESP01_E_NOTFOUND means the path (or a folder on it) does not exist,
 *     ESP01_E_EXISTS that it already does, ESP01_E_IO anything else the
 *     system refused;
 *   - paths and names are UTF-8; '/' separates folders everywhere (Windows
 *     also takes a backslash), and paths handed back use '/'.
 *
 * Nothing here prints, exits or keeps state between calls, except the
 * Ctrl-C flag and the saved terminal settings, which are per process.
 */
#ifndef ESP01_OS_H
#define ESP01_OS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- files */

typedef enum esp01_os_type {
    ESP01_OS_REGULAR,
    ESP01_OS_DIRECTORY,
    ESP01_OS_SYMLINK, /* only from esp01_os_stat(..., false, ...) */
    ESP01_OS_OTHER    /* device, socket, fifo */
} esp01_os_type;

typedef struct esp01_os_info {
    esp01_os_type type;
    uint64_t size;     /* bytes, for a regular file */
    uint64_t mtime_ns; /* last change, ns since 1970-01-01 UTC */
} esp01_os_info;

/*
 * What `path` is.  follow_links: describe what a symbolic link points to
 * (false: the link itself, ESP01_OS_SYMLINK).  Fails with
 * ESP01_E_NOTFOUND when nothing is there.
 */
int esp01_os_stat(const char *path, bool follow_links, esp01_os_info *info,
                  esp01_err *err);

/* Convenience forms of esp01_os_stat(): false on any failure. */
bool esp01_os_is_dir(const char *path);
bool esp01_os_is_file(const char *path);

/* Create one folder (mode 0777 less the umask on POSIX).  ESP01_E_EXISTS
 * when something is already there; the parent must exist. */
int esp01_os_mkdir(const char *path, esp01_err *err);

/* Remove a file or an empty folder. */
int esp01_os_remove(const char *path, esp01_err *err);

/*
 * An open file, for reading or for writing a temporary one.  Owned by the
 * caller until esp01_os_close().
 */
typedef struct esp01_os_file esp01_os_file;

/*
 * Open an existing file for reading; *size is its size now (it may still
 * grow).  A folder fails with ESP01_E_INVAL.
 */
int esp01_os_open_read(const char *path, esp01_os_file **out, uint64_t *size,
                       esp01_err *err);

/* Up to `cap` bytes into buf: the count, 0 at the end of the file. */
int esp01_os_read(esp01_os_file *f, void *buf, size_t cap, esp01_err *err);

/*
 * A new, empty file in the folder of `path` and named after it, for
 * writing and then esp01_os_replace(); its name goes to tmp_path (cap
 * bytes, strlen(path) + 16 is always enough).  It gets the permissions of
 * an ordinary new file, not the private ones of a temporary file.
 */
int esp01_os_create_temp(const char *path, char *tmp_path, size_t cap,
                         esp01_os_file **out, esp01_err *err);

/* All `len` bytes of buf, or a failure. */
int esp01_os_write(esp01_os_file *f, const void *buf, size_t len,
                   esp01_err *err);

/* Close (and free) f; fails when data written could not be stored.
 * NULL is ignored. */
int esp01_os_close(esp01_os_file *f, esp01_err *err);

/*
 * Put the file `from` in place of `to` (which may exist) in one step: a
 * reader sees the old file or the whole new one, never a mix.  Both are in
 * the same folder.  Not synced to the disk.
 */
int esp01_os_replace(const char *from, const char *to, esp01_err *err);

/*
 * A read-only view of a whole file, valid until esp01_os_unmap().  Mapped
 * where the system can (the caller only reads it once, and copying cost
 * more than reading it).  Fails with ESP01_E_INVAL when `path` is not a
 * regular file, ESP01_E_LIMIT when it is larger than max_size,
 * ESP01_E_NOMEM when it cannot be mapped; an empty file gives data NULL,
 * len 0.
 */
typedef struct esp01_os_map {
    const uint8_t *data;
    size_t len;
} esp01_os_map;
int esp01_os_map_file(const char *path, uint64_t max_size, esp01_os_map *map,
                      esp01_err *err);
void esp01_os_unmap(esp01_os_map *map);

/*
 * Names in a folder, in no particular order, without "." and "..".
 * esp01_os_dir_next() returns NULL at the end (or on a read error); the
 * name stays valid until the next call.  Close with esp01_os_dir_close()
 * (NULL is ignored).
 */
typedef struct esp01_os_dir esp01_os_dir;
int esp01_os_dir_open(const char *path, esp01_os_dir **out, esp01_err *err);
const char *esp01_os_dir_next(esp01_os_dir *d);
void esp01_os_dir_close(esp01_os_dir *d);

/*
 * Hold an exclusive lock on `path` (created if missing), waiting for
 * another process to let go.  Returns a handle >= 0 for
 * esp01_os_unlock_file(); the lock also ends with the process.
 */
int esp01_os_lock_file(const char *path, esp01_err *err);
void esp01_os_unlock_file(int handle);

/* A fresh, private folder for temporary files, named "<prefix>.XXXXXX" in
 * $TMPDIR (else the system's); its path into out (cap bytes). */
int esp01_os_make_temp_dir(const char *prefix, char *out, size_t cap,
                           esp01_err *err);

/* The absolute path of `path` with links resolved (on Windows: not
 * resolved), into out (cap bytes); false when it does not exist or does
 * not fit. */
bool esp01_os_realpath(const char *path, char *out, size_t cap);

/* The running program's own file, into out; false when unknown. */
bool esp01_os_self_exe(char *out, size_t cap);

/* The name of user group `gid` (as serialports.h reports it) into out;
 * false when the system has no name for it. */
bool esp01_os_group_name(unsigned gid, char *out, size_t cap);

/* May this user run the file `path`?  (Windows: is it a program or a
 * script by its ending, or is `path` + ".exe" one, as %PATH% is searched.) */
bool esp01_os_is_executable(const char *path);

/* The separator of folders in $PATH (':' on POSIX, ';' on Windows). */
char esp01_os_path_list_sep(void);

/*
 * Shell-style wildcard match of `name` against `pattern` (* ? [...]);
 * path_aware: '*' and '?' do not match '/', as for a pattern naming a
 * path rather than a file name.
 */
bool esp01_os_glob_match(const char *pattern, const char *name,
                         bool path_aware);

/*
 * A folder held open, for writing a tree into it when the tree comes from
 * an untrusted image and the folder may hold links planted by someone
 * else: names are looked up inside the folder held, never as a path, and a
 * link (POSIX symbolic link, Windows reparse point) met there is refused,
 * never followed.  Names are one component: no '/' (nor a backslash on
 * Windows).
 * Close with esp01_os_dirh_close() (NULL is ignored).
 */
typedef struct esp01_os_dirh esp01_os_dirh;

/* Hold the folder `path` (a link here is followed: the caller named it). */
int esp01_os_dirh_open(const char *path, esp01_os_dirh **out, esp01_err *err);

/*
 * Hold the folder `name` inside `d`; create: make it first when missing.
 * ESP01_E_NOTFOUND when missing (and not create); ESP01_E_INVAL when it is
 * a link or not a folder.
 */
int esp01_os_dirh_sub(esp01_os_dirh *d, const char *name, bool create,
                      esp01_os_dirh **out, esp01_err *err);

/* What `name` inside `d` is, a link reported as ESP01_OS_SYMLINK. */
int esp01_os_dirh_stat(esp01_os_dirh *d, const char *name,
                       esp01_os_info *info, esp01_err *err);

/* Create the folder `name` inside `d`; ESP01_E_EXISTS when something is
 * already there. */
int esp01_os_dirh_mkdir(esp01_os_dirh *d, const char *name, esp01_err *err);

/*
 * Write the file `name` inside `d` with len bytes of data and, when
 * mtime_ns is not NULL, that time of last change (ns since 1970 UTC).
 * replace false: the file must be new (ESP01_E_EXISTS when anything is
 * there, a link included); replace true: it is written under a temporary
 * name and put in place of the old one in one step, which replaces a link
 * itself rather than what it points to.  On failure nothing new is left.
 */
int esp01_os_dirh_write_file(esp01_os_dirh *d, const char *name,
                             const void *data, size_t len,
                             const uint64_t *mtime_ns, bool replace,
                             esp01_err *err);

void esp01_os_dirh_close(esp01_os_dirh *d);

/*
 * The folder for the firmware cache when the user has set none, into out
 * (cap bytes): $XDG_CACHE_HOME/esp01 or ~/.cache/esp01 on POSIX,
 * %LOCALAPPDATA%\esp01 on Windows.  ESP01_E_NOTFOUND when the environment
 * names no such place; err then names the variables that would (as
 * "XDG_CACHE_HOME or HOME").
 */
int esp01_os_cache_dir(char *out, size_t cap, esp01_err *err);

/* ----------------------------------------------------------- processes */

/* This process's id (only to tell runs apart, e.g. to seed a generator). */
unsigned long esp01_os_pid(void);

/*
 * A child process whose standard output and error come back through one
 * pipe.  Owned by the caller until esp01_os_child_wait().
 */
typedef struct esp01_os_child esp01_os_child;

/*
 * Start argv[0] (found on $PATH when it names no folder) with argv, stdin
 * from the null device.  A program that cannot be started is a child that
 * exits with status 127, as from a shell, or (where the system knows at
 * once) ESP01_E_NOTFOUND here.
 */
int esp01_os_spawn(char *const argv[], esp01_os_child **out, esp01_err *err);

/*
 * Wait up to timeout_ms for output from any of the n children (NULL
 * entries and children whose output ended are skipped); ready[i] tells
 * which have bytes or their end waiting.  Returns how many are ready, 0
 * when none before the timeout (or a signal came), or a negative code.
 */
int esp01_os_child_poll(esp01_os_child *const *children, size_t n,
                        int timeout_ms, bool *ready, esp01_err *err);

/* Output of the child into buf: the count (> 0), 0 once it closed its
 * output, ESP01_E_TIMEOUT when nothing came by deadline_ms (esp01_now_ms
 * clock). */
int esp01_os_child_read(esp01_os_child *c, void *buf, size_t cap,
                        uint64_t deadline_ms, esp01_err *err);

/* End the child at once (it is still to be waited for). */
void esp01_os_child_kill(esp01_os_child *c);

/*
 * Wait for the child to end and free it.  Returns its exit status
 * (0..255), or 128 + the signal that ended it.
 */
int esp01_os_child_wait(esp01_os_child *c);

/*
 * Run job(i, slot_i, arg) for i = 0..n-1 all at the same time and return
 * when every one has ended.  slot_i is slot_size bytes at
 * results + i * slot_size.  The jobs may run in child processes (POSIX:
 * fork, so a job stuck in a system call cannot hold the others back) and
 * then share no memory with the caller but their slot: a job that could
 * not be started or died leaves its slot as the caller filled it.
 */
void esp01_os_run_parallel(size_t n, void (*job)(size_t i, void *slot, void *arg),
                           void *arg, void *results, size_t slot_size);

/* -------------------------------------------------------------- Ctrl-C */

/*
 * From now on Ctrl-C (SIGINT) sets *flag to 1 instead of ending the
 * process; NULL gives Ctrl-C its default back.  Returns the flag caught
 * with before (NULL: the default), so a caller can put it back.  The
 * handler is not "ignore": programs started later still stop on Ctrl-C.
 */
volatile sig_atomic_t *esp01_os_catch_interrupt(volatile sig_atomic_t *flag);

/*
 * Like esp01_os_catch_interrupt(), and also for a request to end from
 * elsewhere (SIGTERM, SIGHUP: the terminal went away).
 */
void esp01_os_catch_stop(volatile sig_atomic_t *flag);

/* ------------------------------------------------------------ terminal */

enum { ESP01_OS_STDIN = 0, ESP01_OS_STDOUT = 1, ESP01_OS_STDERR = 2 };

/* Is standard stream `which` (ESP01_OS_STD*) a terminal? */
bool esp01_os_isatty(int which);

/* Columns of the terminal on standard output, 0 when unknown. */
unsigned esp01_os_term_columns(void);

/*
 * Standard input in raw mode: every key as typed, no echo, Ctrl-C as a
 * byte.  esp01_os_term_restore() (also safe from atexit, and when raw mode
 * was never entered) puts the settings back.
 */
int esp01_os_term_raw(esp01_err *err);
void esp01_os_term_restore(void);

/* Bytes typed on standard input, waiting up to timeout_ms: the count,
 * 0 at end of input, ESP01_E_TIMEOUT when none came. */
int esp01_os_stdin_read(void *buf, size_t cap, int timeout_ms, esp01_err *err);

/*
 * Show `prompt` on the controlling terminal and read one line from it
 * without echo (a secret).  ESP01_E_NOTFOUND: there is no terminal;
 * ESP01_E_INTERRUPTED: Ctrl-C, Ctrl-D or end of input; ESP01_E_LIMIT: the
 * line did not fit in cap - 1 bytes (out holds its start).  out is always
 * NUL-terminated.
 */
int esp01_os_read_secret(const char *prompt, char *out, size_t cap,
                         esp01_err *err);

/* ----------------------------------------------------------------- TCP */

/* A connected TCP socket; owned by the caller until esp01_os_tcp_close(). */
typedef struct esp01_os_tcp esp01_os_tcp;

/* The addresses of a host; owned by the caller until esp01_os_tcp_free(). */
typedef struct esp01_os_addrs esp01_os_addrs;

/*
 * Look up `host` (a name or a numeric address) for TCP `port` by
 * deadline_ms (esp01_now_ms clock).  ESP01_E_NOTFOUND: no such host;
 * ESP01_E_TIMEOUT: the lookup took too long; ESP01_E_IO: it could not
 * start.
 */
int esp01_os_tcp_lookup(const char *host, uint16_t port, uint64_t deadline_ms,
                        esp01_os_addrs **out, esp01_err *err);
void esp01_os_tcp_free(esp01_os_addrs *addrs);

/*
 * Connect to the first of `addrs` that answers, by deadline_ms.  Nagle is
 * off: small writes go at once.  ESP01_E_TIMEOUT: no answer in time;
 * ESP01_E_EXISTS: refused (a machine is there, nothing listens);
 * ESP01_E_IO: anything else (err says what, for the last address tried).
 */
int esp01_os_tcp_connect(const esp01_os_addrs *addrs, uint64_t deadline_ms,
                         esp01_os_tcp **out, esp01_err *err);

/* All of buf by deadline_ms, or ESP01_E_TIMEOUT (the peer takes no more)
 * or ESP01_E_IO (the connection broke). */
int esp01_os_tcp_send(esp01_os_tcp *s, const void *buf, size_t len,
                      uint64_t deadline_ms, esp01_err *err);

/* What has arrived, at most cap bytes, waiting until deadline_ms: the
 * count, 0 when the peer closed, ESP01_E_TIMEOUT, ESP01_E_IO. */
int esp01_os_tcp_recv(esp01_os_tcp *s, void *buf, size_t cap,
                      uint64_t deadline_ms, esp01_err *err);

/* Tell the peer nothing more will be sent (reading still works). */
void esp01_os_tcp_shutdown_send(esp01_os_tcp *s);

/* Close and free; NULL is ignored. */
void esp01_os_tcp_close(esp01_os_tcp *s);

/* Milliseconds until deadline_ms (esp01_now_ms clock), 0 once it has
 * passed, and at most 60000: one wait of a loop that looks at the
 * deadline again after it, as every wait on a line or a socket does. */
uint32_t esp01_os_wait_ms(uint64_t deadline_ms);

#ifdef __cplusplus
}
#endif

#endif
