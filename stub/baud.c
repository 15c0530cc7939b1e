/*
 * CHANGE_BAUDRATE and the timers that undo a change the host cannot use.
 *
 * The ESP8266 UART divider has no fraction, and the UART clock differs
 * between boards (2 x a 26 or 40 MHz crystal), so the stub never assumes
 * a clock: the ROM auto-bauded to the host's rate, so the divider it left
 * (div0) times that rate (rom_baud) is the clock.  rom_baud is taken from
 * the `old` argument of the first change (115200 when that is 0): hosts
 * that pass the current rate and hosts that always pass the ROM's rate
 * agree at that point, and later `old` values are not needed.
 */
#include "stub.h"

#include "hw.h"

uint8_t stub_baud_command(struct stub *s, const uint8_t *b, uint32_t n,
                          uint32_t *div)
{
    if (n != 8)
        return STUB_E_BAD_LEN;
    uint32_t want = stub_le32(b), old = stub_le32(b + 4);
    uint32_t rom = s->rom_baud ? s->rom_baud
                   : old       ? old
                               : STUB_ROM_BAUD_DEFAULT;
    if (want == 0 || s->div0 == 0 || rom > 0xFFFFFFFFu / s->div0)
        return STUB_E_INVALID;
    uint32_t clock = s->div0 * rom;
    uint32_t d = clock / want, rest = clock - d * want;
    if (rest >= want - rest)
        d++; /* nearest divider */
    if (d == 0 || d > STUB_UART_CLKDIV_MASK)
        return STUB_E_INVALID;
    s->rom_baud = rom;
    *div = d;
    return 0;
}

static void set_div(struct stub *s, uint32_t div)
{
    /* uart_div_modify resets both FIFOs: let the last reply out first. */
    hw_uart_drain();
    uart_div_modify(0, div);
    s->div = div;
}

void stub_baud_switch(struct stub *s, uint32_t div)
{
    s->div_prev = s->div;
    set_div(s, div);
    s->confirm_pending = 1;
    s->switched_ms = s->last_rx_ms = hw_now_ms();
}

void stub_baud_timers(struct stub *s, uint32_t now)
{
    if (s->confirm_pending) {
        if (now - s->switched_ms >= STUB_BAUD_CONFIRM_MS) {
            s->confirm_pending = 0;
            set_div(s, s->div_prev);
            s->reverts++;
            s->last_rx_ms = now;
        }
    } else if (s->div != s->div0 && now - s->last_rx_ms >= STUB_BAUD_IDLE_MS) {
        set_div(s, s->div0);
        s->div_prev = s->div0;
        s->reverts++;
        s->last_rx_ms = now;
    }
}
