/*
 * win.h - what the Win32 backends share: the library speaks UTF-8, Win32
 * speaks UTF-16, and Win32 error codes need words.
 */
#ifndef ESP01_OS_WIN32_WIN_H
#define ESP01_OS_WIN32_WIN_H

#include <stddef.h>
#include <windows.h>

/* A malloc'd UTF-16 copy of a UTF-8 string; NULL when it is not valid
 * UTF-8 or memory ran out. */
wchar_t *esp01_win_wide(const char *utf8);

/* UTF-16 into a UTF-8 buffer, cut to fit; returns out. */
char *esp01_win_utf8(const wchar_t *wide, char *out, size_t cap);

/* The system's one-line text for a Win32 error code, in UTF-8, with
 * "error N" when there is none.  `module` is a DLL whose message table
 * holds the code (winhttp.dll's errors are not in the system's), or NULL. */
const char *esp01_win_strerror(DWORD code, HMODULE module, char *out, size_t cap);

#endif
