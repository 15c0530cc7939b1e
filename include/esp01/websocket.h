/*
 * websocket.h - the client side of RFC 6455 framing, without sockets.
 *
 * MicroPython's WebREPL (facts section 10) is a WebSocket server: a
 * minimal HTTP Upgrade, then frames.  This module builds the upgrade
 * request, checks the server's answer, encodes the client's (masked)
 * frames and decodes the server's frames incrementally, so the port that
 * owns the socket (port_webrepl.c) can feed it whatever the network
 * delivers, one byte or many at a time.
 *
 * Everything from the server is hostile: the response parser and the frame
 * decoder bounds-check every byte, never read past `len`, never allocate,
 * and reject what RFC 6455 forbids a server to send (masked frames,
 * reserved bits, unknown opcodes, fragmented or oversized control frames,
 * 64-bit lengths with the top bit set) as well as payloads above
 * ESP01_WS_MAX_PAYLOAD.
 */
#ifndef ESP01_WEBSOCKET_H
#define ESP01_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

enum esp01_ws_opcode {
    ESP01_WS_CONT = 0,
    ESP01_WS_TEXT = 1,
    ESP01_WS_BINARY = 2,
    ESP01_WS_CLOSE = 8,
    ESP01_WS_PING = 9,
    ESP01_WS_PONG = 10
};

/* MicroPython never sends a frame of 64 KiB or more; leave room anyway. */
#define ESP01_WS_MAX_PAYLOAD (1u << 20)
/* Longest frame header: 2 + 8 (length) + 4 (mask). */
#define ESP01_WS_HEADER_MAX 14
/* Longest upgrade response we read before calling the server broken. */
#define ESP01_WS_RESPONSE_MAX 4096

/* A Sec-WebSocket-Key is 16 random bytes in base64 (24 characters). */
#define ESP01_WS_KEY_LEN 24
/* Its expected Sec-WebSocket-Accept: base64 of a SHA-1 (28 characters). */
#define ESP01_WS_ACCEPT_LEN 28

/*
 * The upgrade request for `host` (as it goes in the Host header, with
 * ":port" if any) and `key` (ESP01_WS_KEY_LEN characters).  MicroPython's
 * server matches header names case-sensitively, so they are spelled as RFC
 * 6455 spells them.  Returns the length written, or 0 when `cap` is too
 * small or `host` holds bytes a header cannot carry.
 */
size_t esp01_ws_request(const char *host, const char *key, char *out,
                        size_t cap);

/* base64(SHA-1(key + RFC 6455's GUID)) into out (ESP01_WS_ACCEPT_LEN+1). */
void esp01_ws_accept(const char *key, char out[ESP01_WS_ACCEPT_LEN + 1]);

/*
 * Check the server's answer to the upgrade request, in `buf` (everything
 * received so far).  Returns 0 with *used = bytes up to and including the
 * blank line (frames may follow in the same buffer), ESP01_WS_MORE when
 * the header is not complete yet, or an error: ESP01_E_PROTOCOL for a
 * server that is not a WebSocket server (not HTTP, not 101, wrong or
 * missing Sec-WebSocket-Accept; `err` quotes the status line, escaped),
 * ESP01_E_LIMIT past ESP01_WS_RESPONSE_MAX bytes.
 */
#define ESP01_WS_MORE 1
int esp01_ws_check_response(const uint8_t *buf, size_t len,
                            const char *accept, size_t *used,
                            esp01_err *err);

/*
 * Frame header for a client frame (FIN set, masked with `mask`), `len`
 * payload bytes.  Returns the header length (6, 8 or 14).
 */
size_t esp01_ws_header(uint8_t out[ESP01_WS_HEADER_MAX], int opcode,
                       uint64_t len, const uint8_t mask[4]);

/* XOR `len` bytes with the mask, starting `pos` bytes into the payload. */
void esp01_ws_mask(uint8_t *buf, size_t len, const uint8_t mask[4],
                   uint64_t pos);

/* What one call of the decoder produced. */
typedef enum esp01_ws_event_kind {
    ESP01_WS_NONE = 0, /* consumed header bytes only; call again */
    ESP01_WS_DATA,     /* a piece of a text or binary message */
    ESP01_WS_CONTROL   /* a whole close, ping or pong frame */
} esp01_ws_event_kind;

typedef struct esp01_ws_event {
    esp01_ws_event_kind kind;
    int opcode;          /* DATA: the message's (TEXT/BINARY); CONTROL: its own */
    const uint8_t *data; /* DATA: inside the caller's buffer; CONTROL: the decoder's */
    size_t len;
    bool end;            /* DATA: last piece of the message */
} esp01_ws_event;

typedef struct esp01_ws_decoder {
    uint8_t hdr[ESP01_WS_HEADER_MAX];
    size_t hlen;      /* header bytes gathered */
    size_t hneed;     /* header bytes this frame has (2 until known) */
    int opcode;       /* current frame's opcode */
    bool fin;
    uint64_t left;    /* payload bytes of the current frame still to come */
    bool in_payload;
    int message;      /* opcode of the unfinished data message, 0 if none */
    uint8_t ctl[125]; /* control frame payload */
    size_t ctl_len;
} esp01_ws_decoder;

void esp01_ws_decoder_init(esp01_ws_decoder *d);

/*
 * Feed `len` bytes.  Returns how many were consumed (0 only when len is 0)
 * and describes at most one event in *ev; data events carry at most
 * `max_data` bytes.  Call again with the rest of the buffer.  A negative
 * return is a protocol violation (ESP01_E_PROTOCOL, or ESP01_E_LIMIT for a
 * frame above ESP01_WS_MAX_PAYLOAD); the stream cannot be resumed after
 * one.
 */
int esp01_ws_decode(esp01_ws_decoder *d, const uint8_t *buf, size_t len,
                    size_t max_data, esp01_ws_event *ev, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
