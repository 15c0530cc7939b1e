/*
 * ccount.c - hw_now_ms() for both lx106 builds: the CPU cycle counter at
 * the clock the ROM believes in (ets_get_cpu_frequency, which its own
 * ets_delay_us uses).  The count wraps after 2^32 cycles (about 50 s at
 * 80 MHz), so a ROM call longer than that is undercounted: that only
 * delays the baud-rate timers.
 */
#include "hw.h"
#include "rom.h"

static uint32_t last, ms, rest, started;

static uint32_t ccount(void)
{
    uint32_t c;
    __asm__ volatile("rsr.ccount %0" : "=r"(c));
    return c;
}

uint32_t hw_now_ms(void)
{
    uint32_t now = ccount();
    if (!started) {
        started = 1;
        last = now;
    }
    rest += now - last;
    last = now;
    uint32_t per_ms = ets_get_cpu_frequency() * 1000u;
    if (per_ms && rest >= per_ms) {
        uint32_t n = rest / per_ms;
        ms += n;
        rest -= n * per_ms;
    }
    return ms;
}
