/* The clock of port.h's deadlines, on POSIX. */
#define _POSIX_C_SOURCE 200809L
#include "esp01/port.h"

#include <errno.h>
#include <time.h>

uint64_t esp01_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void esp01_sleep_ms(uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}
