/* The clock of port.h's deadlines, on Windows. */
#include "esp01/port.h"

#include <windows.h>

uint64_t esp01_now_ms(void)
{
    /* The performance counter, not GetTickCount64: that one moves in
       steps of 10-16 ms, as long as some of the serial timeouts. */
    static LARGE_INTEGER freq;
    LARGE_INTEGER c;
    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&c);
    uint64_t f = (uint64_t)freq.QuadPart, t = (uint64_t)c.QuadPart;
    return t / f * 1000u + t % f * 1000u / f;
}

void esp01_sleep_ms(uint32_t ms)
{
    Sleep(ms);
}
