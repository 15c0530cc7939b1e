/*
 * WebSocket framing (websocket.c) and the pure parts of WebREPL
 * (webrepl.c): handshake, frame decoding at every split point, hostile
 * frames, "WA" requests, URLs, passwords, and the login dialogue against a
 * scripted port.  Expected bytes are written out from RFC 6455 and the
 * struct in facts section 10, not taken from the code under test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "esp01/webrepl.h"
#include "esp01/websocket.h"

TEST(accept_key_rfc_example)
{
    /* RFC 6455 section 1.3's worked example. */
    char out[ESP01_WS_ACCEPT_LEN + 1];
    esp01_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(request_spells_headers_as_micropython_wants)
{
    char req[512];
    size_t n = esp01_ws_request("192.168.4.1:8266", "dGhlIHNhbXBsZSBub25jZQ==",
                                req, sizeof req);
    CHECK(n > 0 && n == strlen(req));
    CHECK(strncmp(req, "GET / HTTP/1.1\r\n", 16) == 0);
    CHECK(strstr(req, "\r\nHost: 192.168.4.1:8266\r\n") != NULL);
    /* modwebrepl's helper compares this name byte for byte. */
    CHECK(strstr(req, "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n") != NULL);
    CHECK(strstr(req, "\r\nUpgrade: websocket\r\n") != NULL);
    CHECK(n >= 4 && memcmp(req + n - 4, "\r\n\r\n", 4) == 0);
    CHECK_EQ(esp01_ws_request("bad host", "k", req, sizeof req), 0);
    CHECK_EQ(esp01_ws_request("h", "k", req, 20), 0);
}

static int check_resp(const char *text, size_t *used, esp01_err *err)
{
    return esp01_ws_check_response((const uint8_t *)text, strlen(text),
                                   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", used, err);
}

TEST(handshake_response)
{
    size_t used = 99;
    esp01_err err = {0};
    const char *good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    CHECK_EQ(check_resp(good, &used, &err), 0);
    CHECK_EQ(used, strlen(good));
    /* Frames right behind the header are not part of it. */
    char more[512];
    snprintf(more, sizeof more, "%s\x81\x0aPassword: ", good);
    CHECK_EQ(check_resp(more, &used, &err), 0);
    CHECK_EQ(used, strlen(good));
    /* Every prefix is "more", never an error or a success. */
    for (size_t i = 1; i < strlen(good); i++) {
        int rc = esp01_ws_check_response((const uint8_t *)good, i,
                                         "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", &used, &err);
        CHECK_EQ(rc, ESP01_WS_MORE);
    }
    /* Header names are case-insensitive in answers. */
    CHECK_EQ(check_resp("HTTP/1.1 101 OK\r\nsec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\n\r\n",
                        &used, &err), 0);
}

TEST(handshake_response_not_webrepl)
{
    size_t used;
    esp01_err err = {0};
    CHECK_EQ(check_resp("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n", &used, &err),
             ESP01_E_PROTOCOL);
    CHECK(strstr(err.msg, "HTTP/1.0 200 OK") != NULL);
    CHECK_EQ(check_resp("SSH-2.0-OpenSSH_9.2\r\n", &used, &err), ESP01_E_PROTOCOL);
    CHECK(strstr(err.msg, "does not speak HTTP") != NULL);
    CHECK_EQ(check_resp("HTTP/1.1 1010 x\r\n\r\n", &used, &err), ESP01_E_PROTOCOL);
    CHECK_EQ(check_resp("HTTP/1.1 101 S\r\nUpgrade: websocket\r\n\r\n", &used, &err),
             ESP01_E_PROTOCOL);
    CHECK(strstr(err.msg, "without a Sec-WebSocket-Accept") != NULL);
    CHECK_EQ(check_resp("HTTP/1.1 101 S\r\nSec-WebSocket-Accept: AAAA\r\n\r\n", &used, &err),
             ESP01_E_PROTOCOL);
    CHECK(strstr(err.msg, "does not match") != NULL);
    /* Hostile bytes in the status line are not echoed raw. */
    CHECK_EQ(check_resp("HTTP/1.1 404 \x1b[2J\r\n", &used, &err), ESP01_E_PROTOCOL);
    CHECK(strchr(err.msg, 0x1b) == NULL);
    char big[ESP01_WS_RESPONSE_MAX + 10];
    memset(big, 'x', sizeof big);
    memcpy(big, "HTTP/1.1 101 S\r\nX: ", 19);
    CHECK_EQ(esp01_ws_check_response((const uint8_t *)big, sizeof big, "a", &used, &err),
             ESP01_E_LIMIT);
}

TEST(client_frame_header)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t h[ESP01_WS_HEADER_MAX];
    /* RFC 6455 section 5.7: a masked "Hello". */
    CHECK_EQ(esp01_ws_header(h, ESP01_WS_TEXT, 5, mask), 6);
    static const uint8_t want[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d};
    CHECK(memcmp(h, want, 6) == 0);
    uint8_t hello[] = "Hello";
    esp01_ws_mask(hello, 5, mask, 0);
    static const uint8_t masked[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
    CHECK(memcmp(hello, masked, 5) == 0);
    /* Masking from an offset continues the same key stream. */
    uint8_t a[] = "Hello";
    esp01_ws_mask(a, 2, mask, 0);
    esp01_ws_mask(a + 2, 3, mask, 2);
    CHECK(memcmp(a, masked, 5) == 0);
    CHECK_EQ(esp01_ws_header(h, ESP01_WS_BINARY, 256, mask), 8);
    CHECK(h[0] == 0x82 && h[1] == (0x80 | 126) && h[2] == 1 && h[3] == 0);
    CHECK_EQ(esp01_ws_header(h, ESP01_WS_BINARY, 65536, mask), 14);
    CHECK(h[1] == (0x80 | 127) && h[7] == 1 && h[8] == 0 && h[9] == 0);
}

/* A server's byte stream: text "Pass", a ping in the middle of a text
 * message in two fragments, a 300-byte binary frame, an empty text frame,
 * a close. */
static size_t sample_stream(uint8_t *s)
{
    size_t n = 0;
    const uint8_t t1[] = {0x81, 4, 'P', 'a', 's', 's'};
    memcpy(s + n, t1, sizeof t1);
    n += sizeof t1;
    const uint8_t f1[] = {0x01, 3, 'w', 'o', 'r'};
    memcpy(s + n, f1, sizeof f1);
    n += sizeof f1;
    const uint8_t ping[] = {0x89, 2, 'h', 'i'};
    memcpy(s + n, ping, sizeof ping);
    n += sizeof ping;
    const uint8_t f2[] = {0x80, 4, 'd', ':', ' ', '!'};
    memcpy(s + n, f2, sizeof f2);
    n += sizeof f2;
    s[n++] = 0x82;
    s[n++] = 126;
    s[n++] = 300 >> 8;
    s[n++] = 300 & 0xff;
    for (int i = 0; i < 300; i++)
        s[n++] = (uint8_t)(i * 7);
    s[n++] = 0x81;
    s[n++] = 0;
    const uint8_t close[] = {0x88, 2, 0x03, 0xe8};
    memcpy(s + n, close, sizeof close);
    n += sizeof close;
    return n;
}

struct collected {
    uint8_t text[64], bin[400];
    size_t tlen, blen;
    int text_ends, bin_ends, pings, closes;
    char order[32];
    size_t olen;
};

/* Decode `s` fed in pieces of at most `piece` bytes (and the pieces split at
 * `cut` first), collecting what came out. */
static int run_decoder(const uint8_t *s, size_t n, size_t cut, size_t piece,
                       size_t max_data, struct collected *c)
{
    memset(c, 0, sizeof *c);
    esp01_ws_decoder d;
    esp01_ws_decoder_init(&d);
    size_t pos = 0;
    int guard = 0;
    while (pos < n && guard++ < 100000) {
        size_t end = pos < cut && cut < n ? cut : n;
        size_t len = end - pos < piece ? end - pos : piece;
        esp01_ws_event ev;
        esp01_err err = {0};
        int used = esp01_ws_decode(&d, s + pos, len, max_data, &ev, &err);
        if (used <= 0 || (size_t)used > len)
            return -1;
        pos += (size_t)used;
        if (ev.kind == ESP01_WS_DATA) {
            if (ev.len > max_data)
                return -2;
            if (ev.opcode == ESP01_WS_TEXT) {
                memcpy(c->text + c->tlen, ev.data, ev.len);
                c->tlen += ev.len;
                c->text_ends += ev.end;
                if (ev.end && c->olen < 31)
                    c->order[c->olen++] = 'T';
            } else {
                memcpy(c->bin + c->blen, ev.data, ev.len);
                c->blen += ev.len;
                c->bin_ends += ev.end;
                if (ev.end && c->olen < 31)
                    c->order[c->olen++] = 'B';
            }
        } else if (ev.kind == ESP01_WS_CONTROL) {
            if (ev.opcode == ESP01_WS_PING && ev.len == 2 && !memcmp(ev.data, "hi", 2))
                c->pings++;
            if (ev.opcode == ESP01_WS_CLOSE && ev.len == 2 && ev.data[0] == 3)
                c->closes++;
            if (c->olen < 31)
                c->order[c->olen++] = ev.opcode == ESP01_WS_PING ? 'p' : 'c';
        }
    }
    return pos == n ? 0 : -3;
}

TEST(decoder_every_split_point)
{
    uint8_t s[512];
    size_t n = sample_stream(s);
    struct collected c;
    for (size_t cut = 0; cut <= n; cut++) {
        for (size_t piece = 1; piece <= 7; piece += 3) {
            int rc = run_decoder(s, n, cut, piece == 7 ? n : piece, 1000, &c);
            CHECK_EQ(rc, 0);
            CHECK_EQ(c.tlen, 4 + 7);
            CHECK(memcmp(c.text, "Password: !", 11) == 0);
            CHECK_EQ(c.blen, 300);
            CHECK(c.blen == 300 && c.bin[299] == (uint8_t)(299 * 7));
            CHECK_EQ(c.text_ends, 3);
            CHECK_EQ(c.bin_ends, 1);
            CHECK_EQ(c.pings, 1);
            CHECK_EQ(c.closes, 1);
            c.order[c.olen] = '\0';
            CHECK_STR(c.order, "TpTBTc");
        }
    }
    /* Data events never exceed the caller's room. */
    CHECK_EQ(run_decoder(s, n, 0, n, 3, &c), 0);
    CHECK_EQ(c.blen, 300);
}

static int decode_all(const uint8_t *s, size_t n, esp01_err *err)
{
    esp01_ws_decoder d;
    esp01_ws_decoder_init(&d);
    size_t pos = 0;
    while (pos < n) {
        esp01_ws_event ev;
        int used = esp01_ws_decode(&d, s + pos, n - pos, 4096, &ev, err);
        if (used < 0)
            return used;
        if (used == 0)
            return -100;
        pos += (size_t)used;
    }
    return 0;
}

TEST(decoder_rejects_what_servers_must_not_send)
{
    esp01_err err = {0};
    static const uint8_t masked[] = {0x81, 0x81, 1, 2, 3, 4, 'x'};
    CHECK_EQ(decode_all(masked, sizeof masked, &err), ESP01_E_PROTOCOL);
    CHECK(strstr(err.msg, "masked") != NULL);
    static const uint8_t rsv[] = {0xc1, 0};
    CHECK_EQ(decode_all(rsv, sizeof rsv, &err), ESP01_E_PROTOCOL);
    static const uint8_t opcode3[] = {0x83, 0};
    CHECK_EQ(decode_all(opcode3, sizeof opcode3, &err), ESP01_E_PROTOCOL);
    static const uint8_t long_ping[] = {0x89, 126, 0, 126};
    CHECK_EQ(decode_all(long_ping, sizeof long_ping, &err), ESP01_E_PROTOCOL);
    static const uint8_t split_ping[] = {0x09, 0};
    CHECK_EQ(decode_all(split_ping, sizeof split_ping, &err), ESP01_E_PROTOCOL);
    static const uint8_t lone_cont[] = {0x80, 1, 'x'};
    CHECK_EQ(decode_all(lone_cont, sizeof lone_cont, &err), ESP01_E_PROTOCOL);
    static const uint8_t interleaved[] = {0x01, 1, 'a', 0x82, 1, 'b'};
    CHECK_EQ(decode_all(interleaved, sizeof interleaved, &err), ESP01_E_PROTOCOL);
    static const uint8_t top_bit[] = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1};
    CHECK_EQ(decode_all(top_bit, sizeof top_bit, &err), ESP01_E_PROTOCOL);
    static const uint8_t huge[] = {0x82, 127, 0, 0, 0, 0, 0x7f, 0, 0, 0};
    CHECK_EQ(decode_all(huge, sizeof huge, &err), ESP01_E_LIMIT);
    /* A 64-bit length that is small is fine (not minimal, still legal). */
    static const uint8_t wide[] = {0x82, 127, 0, 0, 0, 0, 0, 0, 0, 1, 'z'};
    CHECK_EQ(decode_all(wide, sizeof wide, &err), 0);
}

TEST(file_request_layout)
{
    uint8_t r[ESP01_WEBREPL_REQ_LEN];
    esp01_err err = {0};
    CHECK_EQ(esp01_webrepl_request(r, ESP01_WEBREPL_PUT, 0x01020304, "/main.py", &err), 0);
    /* "<2sBBQLH64s": sig, type, flags, u64 offset, u32 size, u16 len, name */
    static const uint8_t head[18] = {'W', 'A', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0x04, 0x03, 0x02, 0x01, 8, 0};
    CHECK(memcmp(r, head, 18) == 0);
    CHECK(memcmp(r + 18, "/main.py", 8) == 0);
    for (int i = 26; i < ESP01_WEBREPL_REQ_LEN; i++)
        CHECK_EQ(r[i], 0);
    char name[80];
    memset(name, 'a', sizeof name);
    name[63] = '\0';
    CHECK_EQ(esp01_webrepl_request(r, ESP01_WEBREPL_GET, 0, name, &err), 0);
    CHECK_EQ(r[16], 63);
    name[63] = 'a';
    name[64] = '\0';
    CHECK_EQ(esp01_webrepl_request(r, ESP01_WEBREPL_GET, 0, name, &err), ESP01_E_LIMIT);
    static const uint8_t ok[4] = {'W', 'B', 0, 0}, bad[4] = {'W', 'B', 1, 0},
                         junk[4] = {'>', '>', '>', ' '};
    CHECK_EQ(esp01_webrepl_reply(ok), 0);
    CHECK_EQ(esp01_webrepl_reply(bad), 1);
    CHECK_EQ(esp01_webrepl_reply(junk), -1);
}

TEST(urls)
{
    char host[64];
    uint16_t port = 0;
    esp01_err err = {0};
    CHECK(esp01_webrepl_is_url("ws://x"));
    CHECK(!esp01_webrepl_is_url("/dev/ttyUSB0"));
    CHECK_EQ(esp01_webrepl_parse_url("ws://192.168.4.1", host, sizeof host, &port, &err), 0);
    CHECK_STR(host, "192.168.4.1");
    CHECK_EQ(port, 8266);
    CHECK_EQ(esp01_webrepl_parse_url("ws://esp01.local:8300/", host, sizeof host, &port, &err), 0);
    CHECK_STR(host, "esp01.local");
    CHECK_EQ(port, 8300);
    CHECK_EQ(esp01_webrepl_parse_url("ws://[::1]:9000", host, sizeof host, &port, &err), 0);
    CHECK_STR(host, "::1");
    CHECK_EQ(port, 9000);
    CHECK_EQ(esp01_webrepl_parse_url("wss://h", host, sizeof host, &port, &err),
             ESP01_E_UNSUPPORTED);
    const char *bad[] = {"ws://", "ws://h:", "ws://h:0", "ws://h:65536", "ws://h:80x",
                         "ws://h/path", "ws://[::1", "ws://a b", "http://h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(esp01_webrepl_parse_url(bad[i], host, sizeof host, &port, &err),
                 ESP01_E_INVAL);
}

TEST(passwords)
{
    esp01_err err = {0};
    CHECK_EQ(esp01_webrepl_check_password("abcd", &err), 0);
    CHECK_EQ(esp01_webrepl_check_password("abcdefghi", &err), 0);
    CHECK_EQ(esp01_webrepl_check_password("abc", &err), ESP01_E_INVAL);
    CHECK(strstr(err.msg, "4 to 9") != NULL && strstr(err.msg, "abc") == NULL);
    CHECK_EQ(esp01_webrepl_check_password("secret1234", &err), ESP01_E_INVAL);
    CHECK(strstr(err.msg, "secret") == NULL);
    CHECK_EQ(esp01_webrepl_check_password("ab\rcd", &err), ESP01_E_INVAL);
    CHECK_EQ(esp01_webrepl_check_password(NULL, &err), ESP01_E_INVAL);
}

/* A port that plays back scripted reads and records writes. */
struct script {
    const char *chunks[8];
    int next;
    char written[128];
    size_t wlen;
};

static int s_read(esp01_port *p, uint8_t *buf, size_t len, uint64_t dl,
                  esp01_err *err)
{
    (void)dl;
    struct script *s = p->ctx;
    const char *c = s->chunks[s->next];
    if (!c)
        return esp01_fail(err, ESP01_E_TIMEOUT, "timeout");
    if (!*c)
        return esp01_fail(err, ESP01_E_IO, "closed");
    s->next++;
    size_t n = strlen(c) < len ? strlen(c) : len;
    memcpy(buf, c, n);
    return (int)n;
}

static int s_write(esp01_port *p, const uint8_t *buf, size_t len, uint64_t dl,
                   esp01_err *err)
{
    (void)dl;
    (void)err;
    struct script *s = p->ctx;
    memcpy(s->written + s->wlen, buf, len);
    s->wlen += len;
    return 0;
}

static const struct esp01_port_ops script_ops = {s_read, s_write, NULL, NULL,
                                                 NULL, NULL, NULL};

static int login_with(struct script *s, const char *pw, esp01_err *err)
{
    esp01_port p = {&script_ops, s, 115200};
    return esp01_webrepl_login(&p, "ws://t:1", pw, esp01_deadline_in(100), err);
}

TEST(login_dialogue)
{
    esp01_err err = {0};
    struct script ok = {{"Pass", "word: ", "\r\nWebREPL con", "nected\r\n>>> "}, 0, {0}, 0};
    CHECK_EQ(login_with(&ok, "s3cret", &err), 0);
    CHECK_EQ(ok.wlen, 7);
    CHECK(memcmp(ok.written, "s3cret\r", 7) == 0);

    struct script denied = {{"Password: ", "\r\nAccess denied\r\n", ""}, 0, {0}, 0};
    CHECK_EQ(login_with(&denied, "nope1", &err), ESP01_E_DEVICE);
    CHECK(strstr(err.msg, "wrong WebREPL password") != NULL);
    CHECK(strstr(err.msg, "nope1") == NULL);
    CHECK(memcmp(denied.written, "nope1\r", 6) == 0);

    struct script closed = {{"Password: ", ""}, 0, {0}, 0};
    CHECK_EQ(login_with(&closed, "abcd", &err), ESP01_E_IO);
    CHECK(strstr(err.msg, "after the password") != NULL);

    struct script silent = {{NULL}, 0, {0}, 0};
    CHECK_EQ(login_with(&silent, "abcd", &err), ESP01_E_TIMEOUT);
    CHECK(strstr(err.msg, "no password prompt") != NULL);
    CHECK_EQ(silent.wlen, 0);

    struct script fresh = {{"New password: "}, 0, {0}, 0};
    CHECK_EQ(login_with(&fresh, "abcd", &err), ESP01_E_UNSUPPORTED);
    CHECK_EQ(fresh.wlen, 0);
}

int main(void)
{
    RUN(accept_key_rfc_example);
    RUN(request_spells_headers_as_micropython_wants);
    RUN(handshake_response);
    RUN(handshake_response_not_webrepl);
    RUN(client_frame_header);
    RUN(decoder_every_split_point);
    RUN(decoder_rejects_what_servers_must_not_send);
    RUN(file_request_layout);
    RUN(urls);
    RUN(passwords);
    RUN(login_dialogue);
    CHECK_DONE();
}
