/*
 * Child processes and parallel jobs on Windows: os.h.
 *
 * Why it is done this way:
 *   - Windows passes a child one command line, not an argv; it is built
 *     by src/os/cmdline.c with the MSVC quoting rules, which every C
 *     program's startup code undoes (not cmd.exe's: no batch files).
 *   - The child's stdout and stderr are the write end of one anonymous
 *     pipe, stdin is NUL.  Only those handles are inherited (a handle
 *     list), and they are made inheritable under a lock, so a child
 *     started at the same time by another thread cannot keep a sibling's
 *     pipe open and hold back its end of output.
 *   - Anonymous pipes cannot be waited on (the handle is not signalled
 *     when data arrives, and overlapped reads need named pipes), so
 *     esp01_os_child_poll() and esp01_os_child_read() look with
 *     PeekNamedPipe() every few milliseconds until their deadline.  The
 *     callers poll in steps of a tenth of a second or more; 5 ms of
 *     latency on a child's output costs them nothing.
 *   - Jobs of esp01_os_run_parallel() are threads, not processes: there
 *     is no fork.  They share the process, so a job that crashes ends
 *     everything, and the jobs must not share unguarded state.
 *   - Exit statuses: a code up to 255 is returned as it is; an
 *     exception code (a crash) is mapped to 128 + the nearest POSIX
 *     signal, so the callers' "killed by signal" wording still fits.
 */
#include "os/os.h"

#include <process.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/port.h"
#include "os/cmdline.h"
#include "os/win32/win.h"

/* How often the pipes are looked at while waiting for output. */
#define POLL_STEP_MS 5
/* Exit code of a child ended by esp01_os_child_kill(): 128 + SIGKILL, as
 * the POSIX backend reports it. */
#define KILLED_STATUS 137

/* A negative timeout waits for ever, as poll() does on POSIX. */
static uint64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? UINT64_MAX : esp01_now_ms() + (uint64_t)timeout_ms;
}

struct esp01_os_child {
    HANDLE process;
    HANDLE pipe; /* its stdout+stderr; NULL once it ended */
};

unsigned long esp01_os_pid(void)
{
    return (unsigned long)GetCurrentProcessId();
}

/* Handles made inheritable only while one CreateProcess runs. */
static SRWLOCK spawn_lock = SRWLOCK_INIT;

static int sys_fail(esp01_err *err, int code, DWORD e)
{
    char why[256];
    return esp01_fail(err, code, "%s", esp01_win_strerror(e, NULL, why, sizeof why));
}

/* CreateProcessW with only `handles` inherited; GetLastError() on failure. */
static BOOL create(wchar_t *cmdline, HANDLE in, HANDLE out, PROCESS_INFORMATION *pi)
{
    STARTUPINFOEXW si;
    memset(&si, 0, sizeof si);
    si.StartupInfo.cb = sizeof si;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = in;
    si.StartupInfo.hStdOutput = out;
    si.StartupInfo.hStdError = out;
    HANDLE list[2] = {in, out};
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(NULL, 1, 0, &size);
    LPPROC_THREAD_ATTRIBUTE_LIST attrs = malloc(size ? size : 1);
    DWORD flags = 0;
    if (attrs && InitializeProcThreadAttributeList(attrs, 1, 0, &size)) {
        if (UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, list,
                                      sizeof list, NULL, NULL)) {
            si.lpAttributeList = attrs;
            flags = EXTENDED_STARTUPINFO_PRESENT;
        }
    } else {
        free(attrs);
        attrs = NULL;
    }
    BOOL ok = CreateProcessW(NULL, cmdline, NULL, NULL, TRUE, flags, NULL, NULL,
                             &si.StartupInfo, pi);
    DWORD e = GetLastError();
    if (attrs) {
        DeleteProcThreadAttributeList(attrs);
        free(attrs);
    }
    SetLastError(e);
    return ok;
}

static int start(char *const argv[], HANDLE in, HANDLE out, HANDLE *process,
                 esp01_err *err)
{
    char *line;
    int rc = esp01_os_cmdline(argv, &line, err);
    if (rc < 0)
        return rc;
    wchar_t *wline = esp01_win_wide(line);
    free(line);
    if (!wline)
        return esp01_fail(err, ESP01_E_INVAL, "the command line is not valid UTF-8");
    /* What this process has buffered comes out before the child's. */
    fflush(NULL);
    PROCESS_INFORMATION pi;
    AcquireSRWLockExclusive(&spawn_lock);
    SetHandleInformation(in, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    SetHandleInformation(out, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    BOOL ok = create(wline, in, out, &pi);
    DWORD e = GetLastError();
    SetHandleInformation(in, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(out, HANDLE_FLAG_INHERIT, 0);
    ReleaseSRWLockExclusive(&spawn_lock);
    free(wline);
    if (!ok) {
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ||
            e == ERROR_BAD_EXE_FORMAT || e == ERROR_ACCESS_DENIED)
            return sys_fail(err, ESP01_E_NOTFOUND, e);
        return sys_fail(err, ESP01_E_IO, e);
    }
    CloseHandle(pi.hThread);
    *process = pi.hProcess;
    return 0;
}

int esp01_os_spawn(char *const argv[], esp01_os_child **out, esp01_err *err)
{
    *out = NULL;
    esp01_os_child *c = malloc(sizeof *c);
    if (!c)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    HANDLE rd, wr;
    if (!CreatePipe(&rd, &wr, NULL, 0)) {
        free(c);
        return sys_fail(err, ESP01_E_IO, GetLastError());
    }
    HANDLE null = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                              NULL, OPEN_EXISTING, 0, NULL);
    if (null == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        CloseHandle(rd);
        CloseHandle(wr);
        free(c);
        return sys_fail(err, ESP01_E_IO, e);
    }
    int rc = start(argv, null, wr, &c->process, err);
    /* The child has its own copies; the write end must be closed here for
     * the end of its output to show. */
    CloseHandle(null);
    CloseHandle(wr);
    if (rc < 0) {
        CloseHandle(rd);
        free(c);
        return rc;
    }
    c->pipe = rd;
    *out = c;
    return 0;
}

/* Bytes waiting in the child's pipe, or -1 once its output ended. */
static long waiting(esp01_os_child *c)
{
    DWORD avail = 0;
    if (!c->pipe)
        return -1;
    if (!PeekNamedPipe(c->pipe, NULL, 0, NULL, &avail, NULL))
        return -1; /* ERROR_BROKEN_PIPE: every writer closed */
    return (long)avail;
}

static void close_pipe(esp01_os_child *c)
{
    if (c->pipe) {
        CloseHandle(c->pipe);
        c->pipe = NULL;
    }
}

int esp01_os_child_poll(esp01_os_child *const *children, size_t n, int timeout_ms,
                        bool *ready, esp01_err *err)
{
    (void)err;
    uint64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        int count = 0;
        for (size_t i = 0; i < n; i++) {
            ready[i] = children[i] && children[i]->pipe && waiting(children[i]) != 0;
            count += ready[i];
        }
        uint64_t now = esp01_now_ms();
        if (count || now >= deadline)
            return count;
        uint64_t left = deadline - now;
        Sleep((DWORD)(left < POLL_STEP_MS ? left : POLL_STEP_MS));
    }
}

int esp01_os_child_read(esp01_os_child *c, void *buf, size_t cap,
                        uint64_t deadline_ms, esp01_err *err)
{
    for (;;) {
        long avail = waiting(c);
        if (avail < 0) {
            close_pipe(c);
            return 0;
        }
        if (avail > 0) {
            DWORD want = (DWORD)((size_t)avail < cap ? (size_t)avail : cap);
            if (want > 1u << 30)
                want = 1u << 30;
            DWORD got = 0;
            if (!ReadFile(c->pipe, buf, want, &got, NULL) || got == 0) {
                close_pipe(c);
                return 0;
            }
            return (int)got;
        }
        uint64_t now = esp01_now_ms();
        if (now >= deadline_ms)
            return esp01_fail(err, ESP01_E_TIMEOUT, "no output");
        uint64_t left = deadline_ms - now;
        Sleep((DWORD)(left < POLL_STEP_MS ? left : POLL_STEP_MS));
    }
}

void esp01_os_child_kill(esp01_os_child *c)
{
    if (c)
        TerminateProcess(c->process, KILLED_STATUS);
}

/* A crash's exception code as 128 + the POSIX signal closest to it. */
static int status_of(DWORD code)
{
    if (code <= 255)
        return (int)code;
    switch (code) {
    case 0xC000013AUL: /* STATUS_CONTROL_C_EXIT */
        return 128 + SIGINT;
    case 0xC0000005UL: /* STATUS_ACCESS_VIOLATION */
    case 0xC00000FDUL: /* STATUS_STACK_OVERFLOW */
        return 128 + SIGSEGV;
    case 0xC000001DUL: /* STATUS_ILLEGAL_INSTRUCTION */
        return 128 + SIGILL;
    case 0xC0000094UL: /* STATUS_INTEGER_DIVIDE_BY_ZERO */
    case 0xC000008EUL: /* STATUS_FLOAT_DIVIDE_BY_ZERO */
        return 128 + SIGFPE;
    default:
        return 128 + SIGABRT;
    }
}

int esp01_os_child_wait(esp01_os_child *c)
{
    close_pipe(c);
    WaitForSingleObject(c->process, INFINITE);
    DWORD code = 255;
    GetExitCodeProcess(c->process, &code);
    CloseHandle(c->process);
    free(c);
    return status_of(code);
}

struct job_thread {
    void (*job)(size_t i, void *slot, void *arg);
    size_t i;
    void *slot;
    void *arg;
};

static unsigned __stdcall job_main(void *p)
{
    struct job_thread *t = p;
    t->job(t->i, t->slot, t->arg);
    return 0;
}

void esp01_os_run_parallel(size_t n, void (*job)(size_t i, void *slot, void *arg),
                           void *arg, void *results, size_t slot_size)
{
    struct job_thread *t = calloc(n ? n : 1, sizeof *t);
    HANDLE *h = calloc(n ? n : 1, sizeof *h);
    uint8_t *base = results;
    for (size_t i = 0; t && h && i < n; i++) {
        t[i] = (struct job_thread){job, i, base + i * slot_size, arg};
        h[i] = (HANDLE)_beginthreadex(NULL, 0, job_main, &t[i], 0, NULL);
    }
    /* More than 64 handles cannot be waited for at once: one at a time. */
    for (size_t i = 0; t && h && i < n; i++)
        if (h[i]) {
            WaitForSingleObject(h[i], INFINITE);
            CloseHandle(h[i]);
        }
    free(t);
    free(h);
}
