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
 * Events the test runner needs go to uart.ctl, one line each: "clkdiv N"
 * when the divider changes, "reset" and "run" (then QEMU exits), and
 * "fault ..." for a CPU exception in the stub.
 */
#include <stddef.h>

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
void spi_flash_attach(void) {}

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
    if (ctl_fd < 0 || flash_fd < 0 || read_clkdiv(&div))
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
