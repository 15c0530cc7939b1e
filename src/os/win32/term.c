/*
 * The terminal on Windows (the console): os.h.
 *
 * Why it is done this way:
 *   - A standard stream is a terminal when GetConsoleMode() accepts its
 *     handle: a pipe, a file or NUL is not (isatty() of the C runtime
 *     says yes to NUL, which is a character device).
 *   - Raw mode turns off line input, echo and processed input on the
 *     console's input, so every key comes at once and Ctrl-C and Ctrl-]
 *     come as bytes, as with cfmakeraw(); keys such as the arrows come
 *     as VT sequences where the console can (Windows 10 and later), as
 *     a serial REPL expects them.  The output gets VT processing where
 *     the console has it, so the board's escape sequences are drawn, not
 *     printed; without it they come out as they are.
 *   - Console input is read as UTF-16 (ReadConsoleW) and handed on as
 *     UTF-8, whatever the console's code page.  A console handle is
 *     signalled for any input event, also mouse, focus and key-up ones, so
 *     those are taken off before a read that would otherwise block.
 *   - A pipe on standard input cannot be waited on: PeekNamedPipe() is
 *     asked every few milliseconds until the timeout.  Where it cannot
 *     look into the pipe (Wine's view of a Unix pipe), one thread reads
 *     standard input, blocking, and the timeout is kept waiting for it.
 *   - A secret is read from the console itself (CONIN$/CONOUT$, as
 *     /dev/tty on POSIX), even when standard input is redirected; with no
 *     console there is no one to ask (ESP01_E_NOTFOUND).
 */
#include "os/os.h"

#include <process.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "esp01/port.h"
#include "os/win32/win.h"

#ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#endif
#ifndef ENABLE_VIRTUAL_TERMINAL_INPUT
#define ENABLE_VIRTUAL_TERMINAL_INPUT 0x0200
#endif

#define PIPE_STEP_MS 5

/* A negative timeout waits for ever, as poll() does on POSIX. */
static uint64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? UINT64_MAX : esp01_now_ms() + (uint64_t)timeout_ms;
}

/* Milliseconds to block for before looking again. */
static DWORD step(uint64_t deadline, uint64_t now, DWORD most)
{
    return deadline - now < most ? (DWORD)(deadline - now) : most;
}

static HANDLE std_handle(int which)
{
    DWORD id = which == ESP01_OS_STDIN    ? STD_INPUT_HANDLE
               : which == ESP01_OS_STDOUT ? STD_OUTPUT_HANDLE
                                          : STD_ERROR_HANDLE;
    return GetStdHandle(id);
}

bool esp01_os_isatty(int which)
{
    DWORD mode;
    HANDLE h = std_handle(which);
    return h && h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode);
}

unsigned esp01_os_term_columns(void)
{
    CONSOLE_SCREEN_BUFFER_INFO info;
    if (!GetConsoleScreenBufferInfo(std_handle(ESP01_OS_STDOUT), &info))
        return 0;
    int cols = info.srWindow.Right - info.srWindow.Left + 1;
    return cols > 0 ? (unsigned)cols : 0;
}

static DWORD saved_in, saved_out;
static volatile LONG have_in, have_out;

int esp01_os_term_raw(esp01_err *err)
{
    HANDLE in = std_handle(ESP01_OS_STDIN), out = std_handle(ESP01_OS_STDOUT);
    if (!GetConsoleMode(in, &saved_in)) {
        char why[256];
        return esp01_fail(err, ESP01_E_IO, "%s",
                          esp01_win_strerror(GetLastError(), NULL, why, sizeof why));
    }
    have_in = 1;
    DWORD raw = saved_in & ~(DWORD)(ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT |
                                    ENABLE_PROCESSED_INPUT);
    /* Older consoles refuse the VT flag; raw without it still works. */
    if (!SetConsoleMode(in, raw | ENABLE_VIRTUAL_TERMINAL_INPUT))
        SetConsoleMode(in, raw);
    if (GetConsoleMode(out, &saved_out)) {
        have_out = 1;
        SetConsoleMode(out, saved_out | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
    }
    return 0;
}

void esp01_os_term_restore(void)
{
    if (have_in)
        SetConsoleMode(std_handle(ESP01_OS_STDIN), saved_in);
    if (have_out)
        SetConsoleMode(std_handle(ESP01_OS_STDOUT), saved_out);
    have_in = have_out = 0;
}

/* Is a typed character waiting?  Other events are taken off the queue. */
static bool key_waiting(HANDLE in)
{
    INPUT_RECORD rec[32];
    DWORD n = 0;
    if (!PeekConsoleInputW(in, rec, 32, &n) || n == 0)
        return false;
    for (DWORD i = 0; i < n; i++)
        if (rec[i].EventType == KEY_EVENT && rec[i].Event.KeyEvent.bKeyDown &&
            rec[i].Event.KeyEvent.uChar.UnicodeChar)
            return true;
    ReadConsoleInputW(in, rec, n, &n);
    return false;
}

/* UTF-16 from the console as UTF-8 into buf (cap >= 4). */
static int console_read(HANDLE in, void *buf, size_t cap, esp01_err *err)
{
    wchar_t w[256];
    DWORD want = (DWORD)(cap / 3 < 256 ? cap / 3 : 256), got = 0;
    if (!ReadConsoleW(in, w, want ? want : 1, &got, NULL)) {
        char why[256];
        return esp01_fail(err, ESP01_E_IO, "%s",
                          esp01_win_strerror(GetLastError(), NULL, why, sizeof why));
    }
    int n = WideCharToMultiByte(CP_UTF8, 0, w, (int)got, buf, (int)cap, NULL, NULL);
    /* Ctrl-Z at the start of a line is the end of input, unless the
     * console is raw (then it is a byte for the board). */
    if (got >= 1 && w[0] == 0x1a && !have_in)
        return 0;
    return n;
}

static int console_wait(HANDLE in, void *buf, size_t cap, int timeout_ms, esp01_err *err)
{
    uint64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        if (key_waiting(in))
            return console_read(in, buf, cap, err);
        uint64_t now = esp01_now_ms();
        if (now >= deadline)
            return esp01_fail(err, ESP01_E_TIMEOUT, "nothing typed");
        WaitForSingleObject(in, step(deadline, now, 60000));
    }
}

/* Standard input that PeekNamedPipe() cannot look into (Wine's view of a
 * Unix pipe, a socket): one thread reads it, blocking, into `pending`,
 * and esp01_os_stdin_read() waits for that with a timeout.  Started on
 * first need and left running: it ends with the process. */
static SRWLOCK reader_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE reader_cond = CONDITION_VARIABLE_INIT;
static char pending[4096];
static size_t pending_len;
static bool reader_started, reader_eof;

static unsigned __stdcall reader_main(void *p)
{
    HANDLE in = p;
    for (;;) {
        AcquireSRWLockExclusive(&reader_lock);
        while (pending_len)
            SleepConditionVariableSRW(&reader_cond, &reader_lock, INFINITE, 0);
        ReleaseSRWLockExclusive(&reader_lock);
        /* Only this thread touches `pending` while it is empty. */
        DWORD got = 0;
        BOOL ok = ReadFile(in, pending, sizeof pending, &got, NULL);
        AcquireSRWLockExclusive(&reader_lock);
        pending_len = ok ? got : 0;
        reader_eof = !ok || got == 0;
        WakeAllConditionVariable(&reader_cond);
        ReleaseSRWLockExclusive(&reader_lock);
        if (!ok || got == 0)
            return 0;
    }
}

static int reader_wait(HANDLE in, void *buf, size_t cap, int timeout_ms, esp01_err *err)
{
    uint64_t deadline = deadline_of(timeout_ms);
    AcquireSRWLockExclusive(&reader_lock);
    if (!reader_started) {
        HANDLE t = (HANDLE)_beginthreadex(NULL, 0, reader_main, in, 0, NULL);
        if (!t) {
            ReleaseSRWLockExclusive(&reader_lock);
            return esp01_fail(err, ESP01_E_IO, "cannot start a thread to read input");
        }
        CloseHandle(t);
        reader_started = true;
    }
    int rc;
    for (;;) {
        if (pending_len) {
            size_t n = pending_len < cap ? pending_len : cap;
            memcpy(buf, pending, n);
            memmove(pending, pending + n, pending_len - n);
            pending_len -= n;
            if (!pending_len)
                WakeAllConditionVariable(&reader_cond);
            rc = (int)n;
            break;
        }
        uint64_t now = esp01_now_ms();
        if (reader_eof || now >= deadline) {
            rc = reader_eof ? 0 : ESP01_E_TIMEOUT;
            break;
        }
        SleepConditionVariableSRW(&reader_cond, &reader_lock, step(deadline, now, 60000), 0);
    }
    ReleaseSRWLockExclusive(&reader_lock);
    if (rc == ESP01_E_TIMEOUT)
        return esp01_fail(err, rc, "nothing typed");
    return rc;
}

static int pipe_wait(HANDLE in, void *buf, size_t cap, int timeout_ms, esp01_err *err)
{
    if (reader_started)
        return reader_wait(in, buf, cap, timeout_ms, err);
    uint64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        DWORD avail = 0;
        if (!PeekNamedPipe(in, NULL, 0, NULL, &avail, NULL)) {
            if (GetLastError() == ERROR_BROKEN_PIPE)
                return 0; /* the writer closed it */
            return reader_wait(in, buf, cap, timeout_ms, err);
        }
        if (avail) {
            DWORD got = 0;
            DWORD want = (DWORD)(cap < avail ? cap : avail);
            if (!ReadFile(in, buf, want, &got, NULL))
                return 0;
            return (int)got;
        }
        uint64_t now = esp01_now_ms();
        if (now >= deadline)
            return esp01_fail(err, ESP01_E_TIMEOUT, "nothing typed");
        Sleep(step(deadline, now, PIPE_STEP_MS));
    }
}

int esp01_os_stdin_read(void *buf, size_t cap, int timeout_ms, esp01_err *err)
{
    HANDLE in = std_handle(ESP01_OS_STDIN);
    DWORD mode;
    if (cap > 1u << 30)
        cap = 1u << 30;
    if (!in || in == INVALID_HANDLE_VALUE)
        return 0;
    if (GetConsoleMode(in, &mode) && cap >= 4)
        return console_wait(in, buf, cap, timeout_ms, err);
    if (GetFileType(in) == FILE_TYPE_PIPE)
        return pipe_wait(in, buf, cap, timeout_ms, err);
    /* A file or NUL: always ready. */
    DWORD got = 0;
    if (!ReadFile(in, buf, (DWORD)cap, &got, NULL)) {
        DWORD e = GetLastError();
        if (e == ERROR_HANDLE_EOF || e == ERROR_BROKEN_PIPE)
            return 0;
        char why[256];
        return esp01_fail(err, ESP01_E_IO, "%s", esp01_win_strerror(e, NULL, why, sizeof why));
    }
    return (int)got;
}

/* Append the UTF-16 unit c to out as UTF-8 (a pair waits in *high). */
static bool put_char(wchar_t c, wchar_t *high, char *out, size_t *n, size_t cap)
{
    wchar_t pair[2];
    int units = 0;
    if (c >= 0xD800 && c < 0xDC00) {
        *high = c;
        return true;
    }
    if (c >= 0xDC00 && c < 0xE000 && *high)
        pair[units++] = *high;
    *high = 0;
    pair[units++] = c;
    char u[8];
    int len = WideCharToMultiByte(CP_UTF8, 0, pair, units, u, sizeof u, NULL, NULL);
    if (len <= 0)
        return true;
    if (*n + (size_t)len + 1 > cap)
        return false;
    memcpy(out + *n, u, (size_t)len);
    *n += (size_t)len;
    return true;
}

/* One line typed on the console, without echo; Backspace works. */
static int ask(HANDLE in, char *out, size_t cap)
{
    size_t n = 0;
    wchar_t high = 0;
    int rc = 0;
    for (;;) {
        wchar_t c;
        DWORD got = 0;
        if (!ReadConsoleW(in, &c, 1, &got, NULL) || got == 0 || c == 0x03 || c == 0x04 ||
            c == 0x1a) {
            rc = ESP01_E_INTERRUPTED;
            break;
        }
        if (c == L'\r' || c == L'\n')
            break;
        if (c == 0x08 || c == 0x7f) {
            while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
                n--; /* a whole UTF-8 character goes */
            if (n > 0)
                n--;
            continue;
        }
        if (!put_char(c, &high, out, &n, cap))
            rc = ESP01_E_LIMIT; /* keep reading to the end of the line */
    }
    if (cap)
        out[n] = '\0';
    return rc;
}

static void say(HANDLE con, const char *text)
{
    wchar_t *w = esp01_win_wide(text);
    DWORD done;
    if (w)
        WriteConsoleW(con, w, (DWORD)wcslen(w), &done, NULL);
    free(w);
}

int esp01_os_read_secret(const char *prompt, char *out, size_t cap, esp01_err *err)
{
    if (cap)
        out[0] = '\0';
    HANDLE in = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE,
                            FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    HANDLE con = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    DWORD old;
    if (in == INVALID_HANDLE_VALUE || con == INVALID_HANDLE_VALUE || !GetConsoleMode(in, &old)) {
        if (in != INVALID_HANDLE_VALUE)
            CloseHandle(in);
        if (con != INVALID_HANDLE_VALUE)
            CloseHandle(con);
        return esp01_fail(err, ESP01_E_NOTFOUND, "no terminal");
    }
    say(con, prompt);
    /* Keys one by one, no echo, Ctrl-C as a byte: an interrupt cannot
     * leave the console silent. */
    SetConsoleMode(in, 0);
    FlushConsoleInputBuffer(in);
    int rc = ask(in, out, cap);
    SetConsoleMode(in, old);
    say(con, "\r\n");
    CloseHandle(in);
    CloseHandle(con);
    if (rc == ESP01_E_INTERRUPTED)
        return esp01_fail(err, rc, "no line entered");
    if (rc == ESP01_E_LIMIT)
        return esp01_fail(err, rc, "line too long");
    return 0;
}
