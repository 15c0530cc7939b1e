/*
 * rom_libc.c - the C runtime helpers the ESP8266 ROM provides and the
 * lx106 compiler calls (Debian's lx106 libgcc has no divide), for the QEMU
 * build, where rom_vectors.S jumps here from the ROM's addresses.  Built
 * with -fno-tree-loop-distribute-patterns so that the loops below are not
 * turned back into calls to themselves.
 */
#include <stddef.h>
#include <stdint.h>

void *fake_memcpy(void *dst, const void *src, size_t n);
void *fake_memset(void *dst, int c, size_t n);
uint32_t fake___udivsi3(uint32_t a, uint32_t b);
uint32_t fake___umodsi3(uint32_t a, uint32_t b);
int32_t fake___divsi3(int32_t a, int32_t b);

void *fake_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *fake_memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

/* Shift-and-subtract.  Division by zero returns all ones instead of
   trapping: the stub never divides by zero, and a test build that did
   should show a wrong result, not hang in an exception vector. */
static uint32_t udivmod(uint32_t a, uint32_t b, uint32_t *rem)
{
    uint32_t q = 0, r = 0;
    if (b == 0) {
        *rem = a;
        return 0xFFFFFFFFu;
    }
    for (int i = 31; i >= 0; i--) {
        r = r << 1 | (a >> i & 1);
        if (r >= b) {
            r -= b;
            q |= 1u << i;
        }
    }
    *rem = r;
    return q;
}

uint32_t fake___udivsi3(uint32_t a, uint32_t b)
{
    uint32_t r;
    return udivmod(a, b, &r);
}

uint32_t fake___umodsi3(uint32_t a, uint32_t b)
{
    uint32_t r;
    udivmod(a, b, &r);
    return r;
}

int32_t fake___divsi3(int32_t a, int32_t b)
{
    uint32_t r;
    uint32_t ua = a < 0 ? 0u - (uint32_t)a : (uint32_t)a;
    uint32_t ub = b < 0 ? 0u - (uint32_t)b : (uint32_t)b;
    uint32_t q = udivmod(ua, ub, &r);
    return (a < 0) != (b < 0) ? (int32_t)(0u - q) : (int32_t)q;
}
