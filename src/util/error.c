#include "esp01/esp01.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *esp01_strerror(int code)
{
    switch (code) {
    case ESP01_OK: return "success";
    case ESP01_E_IO: return "input/output error";
    case ESP01_E_NOMEM: return "out of memory";
    case ESP01_E_FORMAT: return "malformed input";
    case ESP01_E_CHECKSUM: return "checksum mismatch";
    case ESP01_E_NOSPACE: return "does not fit";
    case ESP01_E_INVAL: return "invalid argument";
    case ESP01_E_UNSUPPORTED: return "not supported";
    case ESP01_E_NOTFOUND: return "not found";
    case ESP01_E_EXISTS: return "already exists";
    case ESP01_E_TIMEOUT: return "timed out";
    case ESP01_E_PROTOCOL: return "protocol error";
    case ESP01_E_DEVICE: return "device reported an error";
    case ESP01_E_LIMIT: return "safety limit exceeded";
    case ESP01_E_INTERRUPTED: return "interrupted";
    default: return "unknown error";
    }
}

int esp01_fail(esp01_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void esp01_err_clear(esp01_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}
