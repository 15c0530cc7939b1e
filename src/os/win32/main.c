/*
 * The program's entry on Windows: main() gets its arguments in the ANSI
 * code page, which cannot hold every name, so esp01.exe is linked with
 * -municode and starts here with the UTF-16 ones, hands main() them in
 * UTF-8 (what the rest of the tree speaks) and has the console show UTF-8.
 */
#include "os/win32/win.h"

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

/* Progress bars redraw with \r and, where the console understands them,
 * VT sequences (Windows 10 and later); an older console keeps plain \r. */
static void console_vt(DWORD which)
{
    HANDLE h = GetStdHandle(which);
    DWORD mode;
    if (h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode))
        SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
}

/* src/cli/main.c: calling main() is allowed in C. */
int main(int argc, char **argv);
int wmain(int argc, wchar_t **wargv);

int wmain(int argc, wchar_t **wargv)
{
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    if (!argv) {
        fputs("esp01: out of memory\n", stderr);
        return 1;
    }
    for (int i = 0; i < argc; i++) {
        int need = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL, NULL);
        argv[i] = need > 0 ? malloc((size_t)need) : NULL;
        if (!argv[i]) {
            fputs("esp01: cannot read the command line\n", stderr);
            return 1;
        }
        WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, argv[i], need, NULL, NULL);
    }
    SetConsoleOutputCP(CP_UTF8);
    /* Bytes out as the program wrote them: `esp01 cat`, `get -` and
       `fs cat` pass files through stdout, and text is \n as on every
       other system (the C runtime's text mode would add \r). */
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    _setmode(_fileno(stdin), _O_BINARY);
    console_vt(STD_OUTPUT_HANDLE);
    console_vt(STD_ERROR_HANDLE);
    /* argv lives as long as the process, as the C runtime's does. */
    return main(argc, argv);
}
