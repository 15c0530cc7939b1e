/*
 * semihost.h - QEMU's Xtensa semihosting as the QEMU build uses it.
 *
 * `simcall` with the call number in a2 and arguments in a3-a5; the result
 * comes back in a2 and errno in a3.  Call numbers and behaviour as found
 * on Debian's QEMU 7.2 (docs/stub.md): open takes the host's (Linux) flag
 * values; with `-serial chardev:ID` fds 0-2 are that chardev (reads never
 * block: -1 with EAGAIN when nothing is there, at most 16 bytes at a
 * time; select_one on fd 0 answers at once whatever its timeout); other
 * fds are host files opened relative to QEMU's working directory.
 */
#ifndef STUB_QEMU_SEMIHOST_H
#define STUB_QEMU_SEMIHOST_H

#include <stdint.h>

enum {
    SEMI_EXIT = 1,
    SEMI_READ = 3,
    SEMI_WRITE = 4,
    SEMI_OPEN = 5,
    SEMI_CLOSE = 6,
    SEMI_LSEEK = 19,
    SEMI_SELECT_ONE = 29
};

/* Linux values, passed through to the host's open(2). */
#define SEMI_O_RDONLY 0
#define SEMI_O_WRONLY 1
#define SEMI_O_RDWR 2
#define SEMI_O_CREAT 0100
#define SEMI_O_APPEND 02000
#define SEMI_SEEK_SET 0
#define SEMI_SEEK_END 2

static inline int32_t semihost(int32_t call, int32_t a, int32_t b, int32_t c)
{
    register int32_t a2 __asm__("a2") = call;
    register int32_t a3 __asm__("a3") = a;
    register int32_t a4 __asm__("a4") = b;
    register int32_t a5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
    return a2;
}

static inline int32_t semi_read(int32_t fd, void *buf, uint32_t n)
{
    return semihost(SEMI_READ, fd, (int32_t)(uintptr_t)buf, (int32_t)n);
}

static inline int32_t semi_write(int32_t fd, const void *buf, uint32_t n)
{
    return semihost(SEMI_WRITE, fd, (int32_t)(uintptr_t)buf, (int32_t)n);
}

static inline uint32_t qemu_ccount(void)
{
    uint32_t c;
    __asm__ volatile("rsr.ccount %0" : "=r"(c));
    return c;
}

/* QEMU's lx106 counts cycles at 40 MHz of virtual (host) time. */
#define QEMU_CPU_MHZ 40u

#endif
