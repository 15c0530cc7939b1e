/*
 * usbid.c - USB bridge chips by VID:PID, and Windows instance ids
 * (usbid.h).
 */
#include "util/usbid.h"

#include "esp01/serialports.h"

#include <string.h>

static const struct {
    uint16_t vid, pid;
    const char *name;
} bridges[] = {
    {0x1a86, 0x7523, "CH340"},       {0x1a86, 0x5523, "CH341"},
    {0x1a86, 0x55d4, "CH9102"},      {0x10c4, 0xea60, "CP210x"},
    {0x0403, 0x6001, "FTDI FT232R"}, {0x0403, 0x6010, "FTDI FT2232"},
    {0x0403, 0x6011, "FTDI FT4232"}, {0x0403, 0x6014, "FTDI FT232H"},
    {0x0403, 0x6015, "FTDI FT-X"},   {0x067b, 0x2303, "PL2303"},
    {0x067b, 0x23a3, "PL2303"},
};

const char *esp01_serial_bridge(uint16_t vid, uint16_t pid)
{
    if (vid == 0x303a)
        return "Espressif USB";
    for (size_t i = 0; i < sizeof bridges / sizeof bridges[0]; i++)
        if (bridges[i].vid == vid && bridges[i].pid == pid)
            return bridges[i].name;
    return NULL;
}

static int upper(int c)
{
    return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static int hex_digit(int c)
{
    c = upper(c);
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The whole token is `key` (upper case, e.g. "VID_") and exactly
 * `digits` hex digits: "VID_1A86" but not "VID_1A8" or "VID_1A86X". */
static bool field(const char *tok, size_t len, const char *key, unsigned digits,
                  unsigned *value)
{
    size_t k = strlen(key);
    if (len != k + digits)
        return false;
    for (size_t i = 0; i < k; i++)
        if (upper((unsigned char)tok[i]) != key[i])
            return false;
    unsigned v = 0;
    for (size_t i = k; i < len; i++) {
        int d = hex_digit((unsigned char)tok[i]);
        if (d < 0)
            return false;
        v = v * 16 + (unsigned)d;
    }
    *value = v;
    return true;
}

static void copy_printable(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    dst[len] = '\0';
}

/*
 * The middle part, tokens split by `sep`: VID_, PID_, MI_ and REV_ are
 * known; FTDI's third token is its serial with the channel letter.
 */
static bool parse_device(const char *s, size_t len, char sep, esp01_hwid *out)
{
    bool vid = false, pid = false;
    size_t i = 0;
    for (unsigned n = 0; i <= len && n < 16; n++) {
        size_t j = i;
        while (j < len && s[j] != sep)
            j++;
        unsigned v;
        if (field(s + i, j - i, "VID_", 4, &v)) {
            out->vid = (uint16_t)v;
            vid = true;
        } else if (field(s + i, j - i, "PID_", 4, &v)) {
            out->pid = (uint16_t)v;
            pid = true;
        } else if (field(s + i, j - i, "MI_", 2, &v)) {
            out->iface = (int)v;
        } else if (sep == '+' && vid && pid && j > i + 1 && !memchr(s + i, '&', j - i)) {
            copy_printable(out->serial, sizeof out->serial, s + i, j - i - 1);
            out->channel = (char)upper((unsigned char)s[j - 1]);
        }
        i = j + 1;
    }
    return vid && pid;
}

bool esp01_hwid_parse(const char *id, esp01_hwid *out)
{
    memset(out, 0, sizeof *out);
    out->iface = -1;
    const char *bs = strchr(id, '\\');
    if (!bs || bs == id || (size_t)(bs - id) >= sizeof out->bus)
        goto bad;
    memcpy(out->bus, id, (size_t)(bs - id));
    const char *dev = bs + 1, *inst = strchr(dev, '\\');
    size_t dlen = inst ? (size_t)(inst - dev) : strlen(dev);
    /* FTDI's bus separates with '+', everyone else with '&'. */
    char sep = memchr(dev, '+', dlen) ? '+' : '&';
    if (!parse_device(dev, dlen, sep, out))
        goto bad;
    if (inst && sep == '&' && out->iface < 0) {
        inst++;
        size_t n = strlen(inst);
        if (n > 0 && !strchr(inst, '&') && !strchr(inst, '\\'))
            copy_printable(out->serial, sizeof out->serial, inst, n);
    }
    return true;
bad:
    memset(out, 0, sizeof *out);
    out->iface = -1;
    return false;
}
