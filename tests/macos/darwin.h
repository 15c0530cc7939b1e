/*
 * darwin.h - what macOS declares beyond POSIX that the tree uses, for
 * `make macos-check` on glibc (tests/macos/README.md).  Forced in first,
 * before any system header.
 */
#ifndef ESP01_TESTS_DARWIN_H
#define ESP01_TESTS_DARWIN_H

/* <termios.h>: macOS has cfmakeraw() and CRTSCTS (CCTS_OFLOW | CRTS_IFLOW). */
struct termios;
void cfmakeraw(struct termios *);
#define CRTSCTS (0x00010000 | 0x00020000)

/* <stdlib.h>: realpath() is in macOS's libc with no feature macro. */
char *realpath(const char *restrict, char *restrict);

/* <sys/stat.h>: macOS calls st_mtim st_mtimespec (the same timespec). */
#define st_mtimespec st_mtim

#endif
