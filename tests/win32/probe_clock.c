/* port.h's clock for os_probe.exe alone, while src/os/win32/ has none of
 * its own: GetTickCount64 is monotonic, in milliseconds. */
#include <windows.h>

#include "esp01/port.h"

uint64_t esp01_now_ms(void)
{
    return (uint64_t)GetTickCount64();
}

uint64_t esp01_deadline_in(uint32_t ms)
{
    return esp01_now_ms() + ms;
}

void esp01_sleep_ms(uint32_t ms)
{
    Sleep(ms);
}
