/* Deadlines on the system's clock (esp01_now_ms, in each backend's time.c),
 * written once for every system. */
#include "esp01/port.h"
#include "os/os.h"

uint64_t esp01_deadline_in(uint32_t ms)
{
    return esp01_now_ms() + ms;
}

uint32_t esp01_os_wait_ms(uint64_t deadline_ms)
{
    uint64_t now = esp01_now_ms();
    if (now >= deadline_ms)
        return 0;
    uint64_t left = deadline_ms - now;
    return left > 60000 ? 60000 : (uint32_t)left;
}
