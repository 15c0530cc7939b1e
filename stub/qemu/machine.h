/*
 * machine.h - hardware of the QEMU build's fake ESP8266 that is not a ROM
 * function: what the stub's hardware layer (qemu/hw.c) reaches through
 * memory-mapped registers on the chip.  Implemented in rom_fake.c, next
 * to the flash it works on.
 */
#ifndef STUB_QEMU_MACHINE_H
#define STUB_QEMU_MACHINE_H

#include <stdint.h>

/* SPI0, the flash controller (esptool's run_spiflash_command layout). */
#define SPI0_BASE 0x60000200u
#define SPI0_CMD (SPI0_BASE + 0x00u)
#define SPI0_CMD_USR (1u << 18)

/*
 * CMD was written with the USR bit set: run the user command the SPI0
 * registers describe against the flash, then clear the bit, as the
 * controller does when the transfer ends.
 */
void fake_spi0_user_command(void);

#endif
