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
#define QEMU_TIMER0_INTERRUPT 6 /* CCOMPARE0 */

/*
 * Halt the CPU for `cycles` with WAITI on the CCOMPARE0 timer, so that
 * QEMU's other threads get the host CPU (its console takes input only
 * while the guest leaves it time).  The fake ROM's level-1 vector switches
 * the timer interrupt off again.
 */
static inline void qemu_sleep_cycles(uint32_t cycles)
{
    uint32_t ps, enable = 1u << QEMU_TIMER0_INTERRUPT;
    /* Masked until WAITI lowers the level: a timer that fires before the
       WAITI must wake it, not be taken (and switched off) just before. */
    __asm__ volatile("rsil %0, 1" : "=r"(ps));
    uint32_t wake = qemu_ccount() + cycles;
    /* Writing CCOMPARE0 also clears a timer interrupt left pending. */
    __asm__ volatile("wsr %0, ccompare0\n\tisync" : : "r"(wake));
    /* QEMU may have run late: a compare value already passed would only
       match again after 2^32 cycles, so then there is no sleeping. */
    if ((int32_t)(wake - qemu_ccount()) > 0) {
        __asm__ volatile("wsr %0, intenable\n\trsync" : : "r"(enable));
        __asm__ volatile("waiti 0" : : : "memory");
    } else {
        __asm__ volatile("wsr %0, ps\n\trsync" : : "r"(ps));
    }
}

#endif
