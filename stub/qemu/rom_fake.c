/*
 * rom_fake.c - test versions of the ESP8266 ROM functions the stub calls,
 * for the QEMU build.  rom_vectors.S puts a jump to each at the ROM's own
 * address, so the stub calls them exactly as on the chip.
 *
 * The flash is the file flash.bin in QEMU's working directory (its size is
 * the chip's); it behaves as NOR flash: programming ANDs bits, erasing sets
 * 0xFF, and every operation takes the time a Winbond W25Q80DV datasheet
 * gives as typical (docs/stub.md).  While an operation "runs", the UART
 * interrupt handler the stub attached is called over and over, as the
 * chip keeps taking interrupts while its ROM waits for the flash.
 *
 * The SPI0 controller's user commands (machine.h) answer from the same
 * flash: the JEDEC id the runner gives in the file jedec, and flash bytes.
 *
 * Events the test runner needs go to uart.ctl, one line each: "clkdiv N"
 * when the divider changes, "reset" and "run" (then QEMU exits), and
 * "fault ..." for a CPU exception in the stub.
 */
#include <stddef.h>

#include "machine.h"
#include "rom.h"
#include "semihost.h"

void rom_boot(void);
void rom_fault(uint32_t cause, uint32_t pc, uint32_t vaddr);
void stub_entry(void);

/* Datasheet figures (W25Q80DV, typical), microseconds. */
#define T_PAGE_PROGRAM_US 700u
#define T_SECTOR_ERASE_US 45000u
#define T_BLOCK_ERASE_US 150000u
#define T_CHIP_ERASE_US_PER_MIB 2000000u
/* Reading at 40 MHz, dual output: 10 bytes per microsecond. */
#define READ_BYTES_PER_US 10u
#define READ_SETUP_US 1u
#define BUSY_NAP_US 50u

#define UART0_CLKDIV 0x60000014u
#define UART_STRIDE 0xF00u
#define ETS_UART_INUM 5

#define EXIT_OK 0
#define EXIT_SETUP 2
#define EXIT_FAULT 3

/* The ROM keeps the SPIParamCfg values here (flashchip, eagle.rom.addr.v6.ld);
   its flash functions refuse addresses past chip_size. */
struct flashchip {
    uint32_t device_id, chip_size, block_size, sector_size, page_size,
        status_mask;
};
#define FLASHCHIP ((volatile struct flashchip *)0x3FFFC714u)

static int32_t flash_fd = -1, ctl_fd = -1;
static uint32_t flash_len;
static uint8_t jedec[3];      /* manufacturer, memory type, capacity */
static int flash_attached;    /* the flash answers SPI0 commands once attached */
static void (*user_start)(void);
static struct {
    void (*fn)(void *);
    void *arg;
} isr[32];
static uint32_t isr_enabled;
static uint8_t io[4096];

static void rom_exit(int code)
{
    semihost(SEMI_EXIT, code, 0, 0);
    for (;;)
        ;
}

static uint32_t put_dec(char *p, uint32_t v)
{
    char t[10];
    uint32_t n = 0, k = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        p[k++] = t[--n];
    return k;
}

static uint32_t put_hex(char *p, uint32_t v)
{
    p[0] = '0';
    p[1] = 'x';
    for (int i = 0; i < 8; i++)
        p[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    return 10;
}

static uint32_t put_str(char *p, const char *s)
{
    uint32_t n = 0;
    while (s[n]) {
        p[n] = s[n];
        n++;
    }
    return n;
}

static void ctl_line(const char *line, uint32_t n)
{
    if (ctl_fd >= 0)
        semi_write(ctl_fd, line, n);
}

/* The chip takes interrupts while its ROM busy-waits on the flash. */
static void take_interrupts(void)
{
    for (int i = 0; i < 32; i++)
        if ((isr_enabled >> i & 1) && isr[i].fn)
            isr[i].fn(isr[i].arg);
}

/* Busy until `us` after `start` (a ccount value): the time the host
   spent on the file counts as part of the operation's time.  Between
   interrupts the CPU halts briefly, so that QEMU's console thread can
   bring in the bytes the interrupt handler will want. */
static void busy_since(uint32_t start, uint32_t us)
{
    while (us) {
        uint32_t step = us > 1000000u ? 1000000u : us, cycles = step * QEMU_CPU_MHZ;
        for (;;) {
            take_interrupts();
            uint32_t done = qemu_ccount() - start;
            if (done >= cycles)
                break;
            uint32_t nap = BUSY_NAP_US * QEMU_CPU_MHZ;
            if (cycles - done > nap)
                qemu_sleep_cycles(nap);
        }
        start += cycles;
        us -= step;
    }
}

static int file_io(int write, uint32_t addr, void *buf, uint32_t n)
{
    if (semihost(SEMI_LSEEK, flash_fd, (int32_t)addr, SEMI_SEEK_SET) != (int32_t)addr)
        return -1;
    uint8_t *p = buf;
    while (n) {
        int32_t k = write ? semi_write(flash_fd, p, n) : semi_read(flash_fd, p, n);
        if (k <= 0)
            return -1;
        p += k;
        n -= (uint32_t)k;
    }
    return 0;
}

/* The ROM's checks, and no wrap-around past the end of the file. */
static int bad_range(uint32_t addr, uintptr_t buf, uint32_t size)
{
    uint32_t chip = FLASHCHIP->chip_size;
    return flash_fd < 0 || ((addr | buf | size) & 3) || addr > chip ||
           size > chip - addr || addr > flash_len || size > flash_len - addr;
}

int SPIParamCfg(uint32_t device_id, uint32_t chip_size, uint32_t block_size,
                uint32_t sector_size, uint32_t page_size, uint32_t status_mask)
{
    FLASHCHIP->device_id = device_id;
    FLASHCHIP->chip_size = chip_size;
    FLASHCHIP->block_size = block_size;
    FLASHCHIP->sector_size = sector_size;
    FLASHCHIP->page_size = page_size;
    FLASHCHIP->status_mask = status_mask;
    return 0;
}

int SPIUnlock(void)
{
    return flash_fd < 0;
}

int SPIRead(uint32_t addr, void *dst, uint32_t size)
{
    uint32_t start = qemu_ccount();
    if (bad_range(addr, (uintptr_t)dst, size) || file_io(0, addr, dst, size))
        return 1;
    busy_since(start, READ_SETUP_US + size / READ_BYTES_PER_US);
    return 0;
}

int SPIWrite(uint32_t addr, const void *src, uint32_t size)
{
    uint32_t start = qemu_ccount();
    if (bad_range(addr, (uintptr_t)src, size))
        return 1;
    const uint8_t *s = src;
    uint32_t pages = 0;
    for (uint32_t done = 0; done < size;) {
        /* One page program at a time, as the flash takes them. */
        uint32_t a = addr + done, n = 256 - (a & 255);
        if (n > size - done)
            n = size - done;
        if (file_io(0, a, io, n))
            return 1;
        for (uint32_t i = 0; i < n; i++)
            io[i] &= s[done + i];
        if (file_io(1, a, io, n))
            return 1;
        done += n;
        pages++;
    }
    busy_since(start, pages * T_PAGE_PROGRAM_US);
    return 0;
}

static int erase(uint32_t addr, uint32_t size, uint32_t us)
{
    uint32_t start = qemu_ccount();
    if (bad_range(addr, 0, size))
        return 1;
    for (uint32_t i = 0; i < sizeof io; i++)
        io[i] = 0xFF;
    for (uint32_t done = 0; done < size; done += sizeof io)
        if (file_io(1, addr + done, io, sizeof io))
            return 1;
    busy_since(start, us);
    return 0;
}

int SPIEraseSector(uint32_t sector)
{
    return sector >= 4096 ? 1 : erase(sector * 4096u, 4096, T_SECTOR_ERASE_US);
}

int SPIEraseBlock(uint32_t block)
{
    return block >= 256 ? 1 : erase(block * 65536u, 65536, T_BLOCK_ERASE_US);
}

int SPIEraseChip(void)
{
    uint32_t save = FLASHCHIP->chip_size;
    FLASHCHIP->chip_size = flash_len; /* the whole chip, whatever was set */
    uint32_t mib = (flash_len + (1u << 20) - 1) >> 20;
    int rc = erase(0, flash_len, mib * T_CHIP_ERASE_US_PER_MIB);
    FLASHCHIP->chip_size = save;
    return rc;
}

void SelectSpiFunction(void) {}

void spi_flash_attach(void)
{
    flash_attached = 1;
}

/* ---- SPI0 user commands ---------------------------------------------------
 * The register layout of esptool's run_spiflash_command (loader.py), the
 * same model as tests/tools/romsim/flash.c: USR +0x1C (COMMAND bit 31,
 * ADDR 30, MISO 28), USR1 +0x20 (MISO bit length - 1 at bit 8, address bit
 * length - 1 at bit 26), USR2 +0x24 (command length - 1 at bit 28, the
 * command in the low bits), ADDR +0x04 (MSB aligned), W0..W15 +0x40. */
#define SPI0_REG(off) (*(volatile uint32_t *)(SPI0_BASE + (off)))

void fake_spi0_user_command(void)
{
    uint32_t usr = SPI0_REG(0x1C), usr1 = SPI0_REG(0x20), usr2 = SPI0_REG(0x24);
    uint32_t cmd = usr2 & 0xFF, cmd_bits = (usr2 >> 28) + 1;
    int has_cmd = (usr >> 31) & 1, has_addr = (usr >> 30) & 1;
    uint32_t miso_bits = (usr >> 28 & 1) ? ((usr1 >> 8) & 0x1FF) + 1 : 0;
    uint32_t addr_bits = has_addr ? ((usr1 >> 26) & 0x3F) + 1 : 0;
    uint8_t out[64];
    /* Nothing drives MISO (it reads all ones) unless the flash is attached
       and gets a command it knows. */
    for (uint32_t i = 0; i < sizeof out; i++)
        out[i] = 0xFF;
    if (!flash_attached || !has_cmd || cmd_bits != 8 || flash_fd < 0) {
        /* no answer */
    } else if (cmd == 0x9F && !has_addr) {
        out[0] = jedec[0];
        out[1] = jedec[1];
        out[2] = jedec[2];
    } else if (cmd == 0x03 && addr_bits == 24) {
        /* The chip decodes only the address bits it has: a read wraps. */
        uint32_t a = (SPI0_REG(0x04) >> 8) % flash_len;
        uint32_t n = flash_len - a < sizeof out ? flash_len - a : sizeof out;
        if (semihost(SEMI_LSEEK, flash_fd, (int32_t)a, SEMI_SEEK_SET) != (int32_t)a ||
            semi_read(flash_fd, out, n) != (int32_t)n ||
            (n < sizeof out &&
             (semihost(SEMI_LSEEK, flash_fd, 0, SEMI_SEEK_SET) != 0 ||
              semi_read(flash_fd, out + n, sizeof out - n) != (int32_t)(sizeof out - n))))
            for (uint32_t i = 0; i < sizeof out; i++)
                out[i] = 0xFF;
    }
    /* Only the MISO bits are shifted into W0..W15 (whole bytes, as romsim
       does); the rest of the last word keeps what the host put there. */
    uint32_t bytes = (miso_bits + 7) / 8;
    if (bytes > sizeof out)
        bytes = sizeof out;
    for (uint32_t i = 0; i < bytes; i += 4) {
        uint32_t w = SPI0_REG(0x40 + i);
        for (uint32_t k = 0; k < 4 && i + k < bytes; k++)
            w = (w & ~(0xFFu << (8 * k))) | (uint32_t)out[i + k] << (8 * k);
        SPI0_REG(0x40 + i) = w;
    }
    SPI0_REG(0x00) &= ~SPI0_CMD_USR;
}

void uart_div_modify(uint32_t uart_no, uint32_t div)
{
    *(volatile uint32_t *)(UART0_CLKDIV + uart_no * UART_STRIDE) = div;
    if (uart_no == 0) {
        char line[24];
        uint32_t n = put_str(line, "clkdiv ");
        n += put_dec(line + n, div);
        line[n++] = '\n';
        ctl_line(line, n);
    }
}

void ets_delay_us(uint32_t us)
{
    busy_since(qemu_ccount(), us);
}

uint32_t ets_get_cpu_frequency(void)
{
    return QEMU_CPU_MHZ;
}

void ets_set_user_start(void (*fn)(void))
{
    user_start = fn;
}

void ets_isr_attach(int irq, void (*fn)(void *), void *arg)
{
    if (irq >= 0 && irq < 32) {
        isr[irq].fn = fn;
        isr[irq].arg = arg;
    }
}

void ets_isr_mask(uint32_t mask)
{
    isr_enabled &= ~mask;
}

void ets_isr_unmask(uint32_t mask)
{
    isr_enabled |= mask;
}

void software_reset(void)
{
    ctl_line("reset\n", 6);
    rom_exit(EXIT_OK);
}

/* Where the stub's entry returns to: ROM main's flash-boot path. */
void fake_rom_flash_boot_return(void);
void fake_rom_flash_boot_return(void)
{
    if (user_start) {
        /* The real ROM would run the stub again instead of the firmware. */
        char line[40];
        uint32_t n = put_str(line, "fault user_start=");
        n += put_hex(line + n, (uint32_t)(uintptr_t)user_start);
        line[n++] = '\n';
        ctl_line(line, n);
        rom_exit(EXIT_FAULT);
    }
    ctl_line("run\n", 4);
    rom_exit(EXIT_OK);
}

void rom_fault(uint32_t cause, uint32_t pc, uint32_t vaddr)
{
    char line[64];
    uint32_t n = put_str(line, "fault cause=");
    n += put_dec(line + n, cause);
    n += put_str(line + n, " pc=");
    n += put_hex(line + n, pc);
    n += put_str(line + n, " addr=");
    n += put_hex(line + n, vaddr);
    line[n++] = '\n';
    ctl_line(line, n);
    rom_exit(EXIT_FAULT);
}

/* jedec: the id bytes as the flash sends them, in hex ("EF4014"). */
static int read_jedec(void)
{
    char buf[16];
    int32_t fd = semihost(SEMI_OPEN, (int32_t)(uintptr_t)"jedec", SEMI_O_RDONLY, 0);
    if (fd < 0)
        return -1;
    int32_t n = semi_read(fd, buf, sizeof buf);
    semihost(SEMI_CLOSE, fd, 0, 0);
    uint32_t v = 0;
    int32_t i = 0;
    for (; i < n && i < 6; i++) {
        char c = buf[i];
        uint32_t d = c >= '0' && c <= '9'   ? (uint32_t)(c - '0')
                     : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10)
                                            : 16;
        if (d > 15)
            return -1;
        v = v << 4 | d;
    }
    if (i != 6 || (n > 6 && buf[6] != '\n'))
        return -1;
    jedec[0] = (uint8_t)(v >> 16);
    jedec[1] = (uint8_t)(v >> 8);
    jedec[2] = (uint8_t)v;
    return 0;
}

static int read_clkdiv(uint32_t *div)
{
    char buf[16];
    int32_t fd = semihost(SEMI_OPEN, (int32_t)(uintptr_t)"clkdiv", SEMI_O_RDONLY, 0);
    if (fd < 0)
        return -1;
    int32_t n = semi_read(fd, buf, sizeof buf);
    semihost(SEMI_CLOSE, fd, 0, 0);
    uint32_t v = 0, digits = 0;
    for (int32_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++, digits++)
        v = v * 10 + (uint32_t)(buf[i] - '0');
    if (!digits || v == 0 || v > 0xFFFFF)
        return -1;
    *div = v;
    return 0;
}

/* What the chip's ROM has done by the time MEM_END starts a stub. */
void rom_boot(void)
{
    ctl_fd = semihost(SEMI_OPEN, (int32_t)(uintptr_t)"uart.ctl",
                      SEMI_O_WRONLY | SEMI_O_CREAT | SEMI_O_APPEND, 0644);
    flash_fd = semihost(SEMI_OPEN, (int32_t)(uintptr_t)"flash.bin", SEMI_O_RDWR, 0);
    uint32_t div;
    if (ctl_fd < 0 || flash_fd < 0 || read_jedec() || read_clkdiv(&div))
        rom_exit(EXIT_SETUP);
    int32_t end = semihost(SEMI_LSEEK, flash_fd, 0, SEMI_SEEK_END);
    if (end <= 0)
        rom_exit(EXIT_SETUP);
    flash_len = (uint32_t)end;
    /* The loader leaves the divider it auto-bauded to; the flash size is
       not configured until the stub does it. */
    *(volatile uint32_t *)UART0_CLKDIV = div;
    SPIParamCfg(0, 0, 0, 0, 0, 0);
    user_start = stub_entry;
    user_start();
    rom_exit(EXIT_FAULT); /* the stub's entry never returns here */
}
