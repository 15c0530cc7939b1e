/* Start-up, the poll loop and reply framing; see stub.h. */
#include "stub.h"

#include "hw.h"

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB

void stub_start(struct stub *s, uint8_t *arena, uint8_t *window)
{
    uint8_t *z = (uint8_t *)s;
    for (uint32_t i = 0; i < sizeof *s; i++)
        z[i] = 0;
    stub_rx_init(&s->rx, arena, STUB_ARENA);
    s->rx.expect = STUB_FRAME_MAX;
    s->window = window;
    s->flash_size = STUB_FLASH_MAX;
    /* The ROM auto-bauded to the host; its divider is the only trustworthy
       measure of the UART clock (the crystal may be 26 or 40 MHz). */
    s->div0 = hw_reg_read(STUB_UART_CLKDIV_REG) & STUB_UART_CLKDIV_MASK;
    s->div = s->div_prev = s->div0;
    /* Until SPI_SET_PARAMS says otherwise, let the ROM flash functions
       reach any address a 16 MiB chip has (they check the chip size). */
    SPIParamCfg(0, STUB_FLASH_MAX, FLASH_BLOCK, FLASH_SECTOR, FLASH_PAGE,
                0xFFFF);
    s->last_rx_ms = hw_now_ms();
    stub_tx_begin(s);
    /* From a word, not a string: the image keeps no constant data. */
    uint32_t ohai = 'O' | 'H' << 8 | 'A' << 16 | (uint32_t)'I' << 24;
    stub_tx(s, &ohai, 4);
    stub_tx_end(s);
}

void stub_poll(struct stub *s)
{
    uint32_t len;
    const uint8_t *f = stub_rx_frame(&s->rx, &len);
    if (f) {
        s->frames++;
        uint8_t note = stub_rx_head_note(&s->rx);
        if (note != RX_NOTE_NONE) {
            /* Answered while the packet before it was written. */
            if (note == RX_NOTE_TAKEN)
                stub_write_taken(s, f, len);
        } else if (s->reading && len == 4) {
            stub_read_ack(s, f, len);
        } else {
            /* Anything but an acknowledgement ends a READ_FLASH: either
               all of it was acknowledged and the host went on without
               waiting for the MD5 frame (which still goes first), or the
               host gave up on it. */
            if (s->reading && s->rd_acked == s->rd_len)
                stub_read_pump(s);
            s->reading = 0;
            stub_dispatch(s, f, len);
        }
        stub_rx_release(&s->rx);
        return;
    }
    stub_baud_timers(s, hw_now_ms());
    if (s->reading && stub_read_pump(s))
        return;
    if (stub_write_idle(s))
        return;
    hw_idle();
}

static void tx_flush(struct stub *s)
{
    if (s->txlen) {
        hw_uart_write(s->txbuf, s->txlen);
        s->txlen = 0;
    }
}

void stub_tx_begin(struct stub *s)
{
    s->txlen = 0;
    s->txbuf[s->txlen++] = SLIP_END;
}

void stub_tx(struct stub *s, const void *p, uint32_t n)
{
    const uint8_t *b = p;
    for (uint32_t i = 0; i < n; i++) {
        if (s->txlen > sizeof s->txbuf - 2)
            tx_flush(s);
        uint8_t c = b[i];
        if (c == SLIP_END || c == SLIP_ESC) {
            s->txbuf[s->txlen++] = SLIP_ESC;
            c = c == SLIP_END ? 0xDC : 0xDD;
        }
        s->txbuf[s->txlen++] = c;
    }
}

void stub_tx_end(struct stub *s)
{
    if (s->txlen > sizeof s->txbuf - 1)
        tx_flush(s);
    s->txbuf[s->txlen++] = SLIP_END;
    tx_flush(s);
}

void stub_reply(struct stub *s, uint8_t op, uint32_t value,
                const uint8_t *data, uint32_t n, uint8_t error)
{
    uint8_t h[8];
    uint32_t total = n + 2;
    h[0] = 1;
    h[1] = op;
    h[2] = (uint8_t)total;
    h[3] = (uint8_t)(total >> 8);
    h[4] = (uint8_t)value;
    h[5] = (uint8_t)(value >> 8);
    h[6] = (uint8_t)(value >> 16);
    h[7] = (uint8_t)(value >> 24);
    uint8_t status[2] = {error ? 1 : 0, error};
    stub_tx_begin(s);
    stub_tx(s, h, sizeof h);
    if (n)
        stub_tx(s, data, n);
    stub_tx(s, status, 2);
    stub_tx_end(s);
}
