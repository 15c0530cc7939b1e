/*
 * cmdline.h - one command line from an argv, quoted so that a Windows
 * program's C runtime (CommandLineToArgvW and the MSVC/MinGW startup
 * code) splits it back into the same argv.
 *
 * Windows hands a child one string, not a vector; each program splits it
 * itself.  The rules used here are the MSVC ones every C program gets:
 *   - an argument without space, tab, newline, vertical tab or '"' (and
 *     not empty) goes as it is: backslashes are plain characters there;
 *   - any other is put in double quotes; inside them, 2n backslashes
 *     before a '"' stand for n backslashes, 2n+1 for n and a literal '"',
 *     so backslashes are doubled before a quote and before the closing
 *     quote, and every '"' in the argument becomes \".
 * Not for batch files: cmd.exe reads its command line by other rules.
 *
 * Portable C (no system headers), so it is tested on every host.
 */
#ifndef ESP01_OS_CMDLINE_H
#define ESP01_OS_CMDLINE_H

#include "esp01/esp01.h"

/*
 * The NULL-terminated argv joined by single spaces, each argument quoted
 * as above, into a malloc'd UTF-8 string in *out (the caller frees it).
 * ESP01_E_INVAL: argv is empty; ESP01_E_NOMEM.
 */
int esp01_os_cmdline(char *const argv[], char **out, esp01_err *err);

#endif
