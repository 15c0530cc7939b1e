/*
 * win.h - what the Win32 backends share: the library speaks UTF-8, Win32
 * speaks UTF-16, and Win32 error codes need words.
 */
#ifndef ESP01_OS_WIN32_WIN_H
#define ESP01_OS_WIN32_WIN_H

#include <stdbool.h>
#include <stddef.h>
#include <windows.h>

#include "esp01/esp01.h"

/* A malloc'd UTF-16 copy of a UTF-8 string; NULL when it is not valid
 * UTF-8 or memory ran out. */
wchar_t *esp01_win_wide(const char *utf8);

/* UTF-16 into a UTF-8 buffer, cut to fit; returns out. */
char *esp01_win_utf8(const wchar_t *wide, char *out, size_t cap);

/* The system's one-line text for a Win32 error code, in UTF-8, with
 * "error N" when there is none.  `module` is a DLL whose message table
 * holds the code (winhttp.dll's errors are not in the system's), or NULL. */
const char *esp01_win_strerror(DWORD code, HMODULE module, char *out, size_t cap);

/*
 * A malloc'd UTF-16 path for the wide Win32 calls: '/' becomes '\\', and
 * a path too long for MAX_PATH is made absolute with the \\?\ prefix
 * that lifts the limit.  NULL with `err` set when it is not valid UTF-8
 * or memory ran out.
 */
wchar_t *esp01_win_path(const char *utf8, esp01_err *err);

/* A path from the system into UTF-8 with '/' between folders (os.h's
 * convention), without a \\?\ prefix; false when it does not fit. */
bool esp01_win_path_utf8(const wchar_t *wide, char *out, size_t cap);

/* GetLastError() (or `code`) as the library's code and its text:
 * not found, exists, no memory, or I/O. */
int esp01_win_fail(esp01_err *err, DWORD code);

#endif
