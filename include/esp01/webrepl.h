/*
 * webrepl.h - MicroPython's WebREPL: the REPL over a WebSocket on TCP
 * port 8266 (facts section 10; the board side is extmod/modwebrepl.c).
 *
 * esp01_port_open_webrepl() connects to ws://HOST[:PORT], upgrades to
 * WebSocket (websocket.h), answers the "Password: " prompt and returns an
 * ordinary struct esp01_port: reads give the REPL's output (text frames),
 * writes send text frames.  The raw REPL client and everything built on it
 * run over it unchanged.  Every step has a deadline: the name lookup,
 * the TCP connect, the upgrade, the login and every read and write.
 *
 * WebREPL also has its own file protocol in binary frames ("WA" requests):
 * esp01_webrepl_put_file()/get_file() speak it, and
 * esp01_webrepl_use_for_files() routes a devfs session's file data through
 * it while the raw REPL still creates, checks and renames (devfs.h), so a
 * put stays atomic and checked.
 *
 * The password is only ever sent to the board; it appears in no error
 * message.  Passwords are 4 to 9 characters (webrepl_setup's rule; the
 * board compares at most 9).
 */
#ifndef ESP01_WEBREPL_H
#define ESP01_WEBREPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/devfs.h"
#include "esp01/esp01.h"
#include "esp01/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP01_WEBREPL_PORT 8266
#define ESP01_WEBREPL_PASS_MIN 4
#define ESP01_WEBREPL_PASS_MAX 9
/* The file protocol's name field holds 64 bytes, NUL included. */
#define ESP01_WEBREPL_NAME_MAX 63
/* Size of a "WA" request: struct "<2sBBQLH64s". */
#define ESP01_WEBREPL_REQ_LEN 82

enum { ESP01_WEBREPL_PUT = 1, ESP01_WEBREPL_GET = 2, ESP01_WEBREPL_VER = 3 };

/* True when `port` names a WebREPL URL ("ws://" or "wss://"). */
bool esp01_webrepl_is_url(const char *port);

/*
 * Split "ws://HOST[:PORT][/]" ("[v6addr]" for IPv6).  `host` gets the
 * bare host name or address.  wss:// is refused: the board has no TLS.
 */
int esp01_webrepl_parse_url(const char *url, char *host, size_t cap,
                            uint16_t *port, esp01_err *err);

/* 0 when `password` can be a WebREPL password, else ESP01_E_INVAL. */
int esp01_webrepl_check_password(const char *password, esp01_err *err);

/*
 * Connect, upgrade and log in; `timeout_ms` bounds each of those steps.
 * With `password` NULL it stops after the upgrade, so that a tool can ask
 * its user only once the board answered, then call esp01_webrepl_login().
 * Failures: ESP01_E_IO (refused, unreachable, connection dropped),
 * ESP01_E_TIMEOUT (no answer), ESP01_E_PROTOCOL (not a WebREPL server),
 * ESP01_E_DEVICE (the board said "Access denied"), ESP01_E_INVAL (bad URL
 * or password).  Close with esp01_port_close().  The port's baud (115200
 * unless set_baud changes it) only paces plain raw mode: WebREPL input
 * lands in the same 256-byte buffer as the UART's on an ESP8266.
 */
int esp01_port_open_webrepl(esp01_port **out, const char *url,
                            const char *password, uint32_t timeout_ms,
                            esp01_err *err);

/* True for ports opened by esp01_port_open_webrepl(). */
bool esp01_port_is_webrepl(const esp01_port *port);
/* "ws://HOST:PORT" of such a port, for messages. */
const char *esp01_webrepl_address(const esp01_port *port);

/* Log in on a port that shows a WebREPL password prompt (used by open). */
int esp01_webrepl_login(esp01_port *port, const char *where,
                        const char *password, uint64_t deadline,
                        esp01_err *err);

/* Binary frames on a WebREPL port: send `len` bytes; read exactly `len`
 * bytes of binary payload (text that arrives meanwhile is REPL output and
 * is dropped). */
int esp01_webrepl_send_binary(esp01_port *port, const uint8_t *buf,
                              size_t len, uint64_t deadline, esp01_err *err);
int esp01_webrepl_read_binary(esp01_port *port, uint8_t *buf, size_t len,
                              uint64_t deadline, esp01_err *err);

/* Encode a "WA" request; ESP01_E_LIMIT for a name over 63 bytes. */
int esp01_webrepl_request(uint8_t out[ESP01_WEBREPL_REQ_LEN], int type,
                          uint32_t size, const char *name, esp01_err *err);
/* Decode a 4-byte "WB" reply: its status code, or -1 if not a reply. */
int esp01_webrepl_reply(const uint8_t in[4]);

/* Write a whole file with the file protocol (no temporary name). */
int esp01_webrepl_put_file(esp01_port *port, const char *name,
                           const uint8_t *data, size_t len,
                           uint32_t timeout_ms, esp01_err *err);
/*
 * Read a file of `len` bytes (its size from a stat) into `data`.  Fewer or
 * more bytes than `len` fail the size check with ESP01_E_PROTOCOL.
 */
int esp01_webrepl_get_file(esp01_port *port, const char *name,
                           uint8_t *data, size_t len, uint32_t timeout_ms,
                           esp01_err *err);
/* The board's MicroPython version from the file protocol's GET_VER. */
int esp01_webrepl_version(esp01_port *port, uint8_t ver[3],
                          uint32_t timeout_ms, esp01_err *err);

/* Move `fs`'s file data through the file protocol on `port`. */
void esp01_webrepl_use_for_files(esp01_devfs *fs, esp01_port *port);

#ifdef __cplusplus
}
#endif

#endif
