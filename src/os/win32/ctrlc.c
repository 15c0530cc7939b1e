/*
 * Ctrl-C on Windows: os.h.
 *
 * Why it is done this way: a console program gets Ctrl-C, Ctrl-Break and
 * the closing of its console window as calls to a handler routine
 * (SetConsoleCtrlHandler), on a thread of their own, not as signals.  The
 * handler sets the caller's flag as the POSIX signal handler does, and
 * returning TRUE keeps the process alive.  A handler routine is not
 * inherited, so programs started later still stop on Ctrl-C (unlike
 * SetConsoleCtrlHandler(NULL, TRUE), which they would inherit).
 *
 * The closing of the console (CTRL_CLOSE_EVENT, the POSIX SIGHUP) cannot
 * be refused: Windows ends the process when the handler returns, or after
 * five seconds.  The handler waits a moment after setting the flag so the
 * main thread can put the terminal back and say what it was doing.
 */
#include "os/os.h"

#include <windows.h>

/* How long a closing console waits for the main thread to wind up. */
#define CLOSE_GRACE_MS 2000

static volatile sig_atomic_t *interrupt_flag;
static volatile LONG stop_too;     /* esp01_os_catch_stop(): also on close */
static volatile LONG handler_on;   /* the routine is registered */

static BOOL WINAPI on_ctrl(DWORD type)
{
    volatile sig_atomic_t *f = interrupt_flag;
    if (!f)
        return FALSE; /* the default: the process ends */
    switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
        *f = 1;
        return TRUE;
    case CTRL_CLOSE_EVENT:
        if (!stop_too)
            return FALSE;
        *f = 1;
        Sleep(CLOSE_GRACE_MS);
        return TRUE;
    default:
        return FALSE;
    }
}

volatile sig_atomic_t *esp01_os_catch_interrupt(volatile sig_atomic_t *flag)
{
    volatile sig_atomic_t *old = interrupt_flag;
    interrupt_flag = flag;
    if (flag && !handler_on) {
        if (SetConsoleCtrlHandler(on_ctrl, TRUE))
            handler_on = 1;
    } else if (!flag && handler_on) {
        SetConsoleCtrlHandler(on_ctrl, FALSE);
        handler_on = 0;
    }
    if (!flag)
        stop_too = 0;
    return old;
}

void esp01_os_catch_stop(volatile sig_atomic_t *flag)
{
    esp01_os_catch_interrupt(flag);
    stop_too = flag != NULL;
}
