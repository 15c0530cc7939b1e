/*
 * The flash side of romsim: a SPI NOR chip kept in a file, the ROM's
 * flashchip parameters, the ROM flash functions the loader calls, and the
 * SPI0 user-command registers esp01 and esptool use for the JEDEC id and
 * word reads.
 *
 * Sources:
 *  - ROM functions: the ESP8266 ROM disassembly (github sheinz/
 *    esp-open-bootrom, bootrom.s): SPIEraseArea at 0x4b44, SPIEraseSector
 *    0x4a00, SPIEraseBlock 0x49b4, SPIWrite 0x4a4c, SPIRead 0x4b1c,
 *    SPIParamCfg 0x4c2c.  All of them read their limits through the
 *    pointer stored at 0x3FFFC714 (flashchip): +4 chip_size, +8
 *    block_size, +0xC sector_size, +0x10 page_size.
 *  - The chip: a NOR flash programs by clearing bits and erases to 0xFF;
 *    address bits above its capacity are not decoded, so an address past
 *    the end wraps to the start (JEDEC SFDP/datasheets: 24-bit address,
 *    unused high bits "don't care").  Times are the typical figures of the
 *    Winbond W25Q80DV datasheet (AC characteristics): page program tPP
 *    0.7 ms, 4 KiB sector erase tSE 45 ms, 64 KiB block erase tBE2 150 ms.
 *  - SPI0 user commands: esptool's run_spiflash_command (loader.py) for
 *    the register layout: USR +0x1C (COMMAND bit 31, ADDR 30, MISO 28),
 *    USR1 +0x20 (MISO bit length - 1 at bit 8, address bit length - 1 at
 *    bit 26), USR2 +0x24 (command length - 1 at bit 28, command in the low
 *    bits), ADDR +0x04 (MSB aligned), W0 +0x40, CMD +0x00 bit 18.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/bytes.h"
#include "sim.h"

static struct {
    uint8_t *mem;
    char path[4096];
    uint32_t size;           /* the real chip */
    uint32_t jedec;
    bool mapped;
    bool timing;
    bool attached;           /* spi_flash_attach has run since reset */
    uint32_t rom_default_size;
    /* SpiFlashChip as SPIParamCfg stores it */
    uint32_t p_id, p_size, p_block, p_sector, p_page, p_mask;
} F;

/* Where the simulated ROM keeps the struct that 0x3FFFC714 points to.  The
 * real address is in the ROM's data; only the pointer's location is
 * known (eagle.rom.addr.v6.ld: flashchip = 0x3fffc714). */
#define FLASHCHIP_PTR 0x3FFFC714u
#define FLASHCHIP_STRUCT 0x3FFFC718u

int flash_open(const struct flash_opts *o)
{
    long long size = o->size;
    F.jedec = o->jedec;
    if (size < 0) {
        uint32_t cap = (F.jedec >> 16) & 0xFF;
        size = cap >= 0x12 && cap <= 0x18 ? (1ll << cap) : 1024 * 1024;
    }
    if (size <= 0 || size > 16 * 1024 * 1024 || size % SECTOR) {
        fputs("romsim: --size must be whole sectors up to 16 MiB\n", stderr);
        return -1;
    }
    F.size = (uint32_t)size;
    F.timing = o->timing;
    F.rom_default_size = o->rom_chip_size;
    if (o->path) {
        if (!realpath(o->path, F.path)) {
            int fd0 = open(o->path, O_RDWR | O_CREAT, 0644);
            if (fd0 >= 0)
                close(fd0);
            if (!realpath(o->path, F.path)) {
                perror(o->path);
                return -1;
            }
        }
        int fd = open(o->path, O_RDWR | O_CREAT, 0644);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            perror(o->path);
            return -1;
        }
        bool fresh = st.st_size == 0;
        if (ftruncate(fd, F.size) < 0) {
            perror(o->path);
            close(fd);
            return -1;
        }
        F.mem = mmap(NULL, F.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (F.mem == MAP_FAILED) {
            perror("mmap");
            return -1;
        }
        F.mapped = true;
        if (fresh)
            memset(F.mem, 0xFF, F.size);
        else if ((uint64_t)st.st_size < F.size)
            memset(F.mem + st.st_size, 0xFF, F.size - (size_t)st.st_size);
    } else {
        F.mem = malloc(F.size);
        if (!F.mem)
            return -1;
        memset(F.mem, 0xFF, F.size);
    }
    flash_param_reset();
    return 0;
}

void flash_close(void)
{
    if (F.mapped) {
        msync(F.mem, F.size, MS_SYNC);
        munmap(F.mem, F.size);
    } else {
        free(F.mem);
    }
    F.mem = NULL;
}

uint32_t flash_size(void) { return F.size; }
uint32_t flash_jedec(void) { return F.jedec; }
const char *flash_path(void) { return F.path[0] ? F.path : NULL; }
uint8_t *flash_bytes(void) { return F.mem; }

void flash_param_reset(void)
{
    /* What the ROM's data holds at reset is not in the disassembly; the
     * default is an option (--rom-flash-size) so tests can make it smaller
     * than the chip, which is the case esp01 must probe for. */
    flash_param_set(F.jedec, F.rom_default_size, BLOCK64, SECTOR, 256,
                    0xFFFF);
}

void flash_param_set(uint32_t id, uint32_t size, uint32_t block,
                     uint32_t sector, uint32_t page, uint32_t mask)
{
    F.p_id = id;
    F.p_size = size;
    F.p_block = block;
    F.p_sector = sector;
    F.p_page = page;
    F.p_mask = mask;
    logf_("flashchip: size 0x%x block 0x%x sector 0x%x page 0x%x", size,
          block, sector, page);
}

bool flash_param_read(uint32_t addr, uint32_t *value)
{
    if (addr == FLASHCHIP_PTR) {
        *value = FLASHCHIP_STRUCT;
        return true;
    }
    const uint32_t fields[6] = {F.p_id, F.p_size, F.p_block, F.p_sector,
                                F.p_page, F.p_mask};
    if (addr >= FLASHCHIP_STRUCT && addr < FLASHCHIP_STRUCT + 24 &&
        addr % 4 == 0) {
        *value = fields[(addr - FLASHCHIP_STRUCT) / 4];
        return true;
    }
    return false;
}

void flash_attach(void) { F.attached = true; }
void flash_detach(void) { F.attached = false; }
bool flash_attached(void) { return F.attached; }

/* ---- the chip -------------------------------------------------------- */

static void busy(double ms)
{
    if (F.timing && ms > 0)
        sleep_s(ms / 1000.0);
}

/* The chip decodes only the address bits it has. */
static uint32_t phys(uint32_t addr) { return addr % F.size; }

static void chip_erase_sector(uint32_t sector)
{
    uint32_t a = phys(sector * SECTOR);
    memset(F.mem + a, 0xFF, SECTOR);
    S.erased_sectors++;
    busy(45.0);
}

static void chip_erase_block(uint32_t block)
{
    uint32_t a = phys(block * BLOCK64);
    memset(F.mem + a, 0xFF, BLOCK64 <= F.size ? BLOCK64 : F.size);
    S.erased_sectors += 16;
    S.erased_blocks++;
    busy(150.0);
}

/* Page program: bits can only be cleared, and a page wraps inside itself
 * (a program that crosses a page boundary continues at the page start). */
static void chip_program(uint32_t addr, const uint8_t *src, uint32_t len)
{
    uint32_t page = F.p_page ? F.p_page : 256;
    uint32_t base = addr - addr % page;
    for (uint32_t i = 0; i < len; i++) {
        uint32_t a = base + (addr - base + i) % page;
        F.mem[phys(a)] &= src[i];
    }
    S.programmed_pages++;
    busy(0.7);
}

/* ---- ROM functions ----------------------------------------------------- */

/* SPIEraseSector (0x4a00): refuses sector >= chip_size / sector_size. */
static int rom_SPIEraseSector(uint32_t sector)
{
    if (!F.p_sector || sector >= F.p_size / F.p_sector)
        return 1;
    chip_erase_sector(sector);
    return 0;
}

/* SPIEraseBlock (0x49b4): refuses block >= chip_size / block_size. */
static int rom_SPIEraseBlock(uint32_t block)
{
    if (!F.p_block || block >= F.p_size / F.p_block)
        return 1;
    chip_erase_block(block);
    return 0;
}

/*
 * SPIEraseArea (0x4b44), step by step as the ROM does it:
 *   fail if offset + size > chip_size, or offset % sector_size != 0
 *   (both checked before anything is erased, also when size is 0);
 *   n = ceil(size / sector_size), head = min(n, sectors left in the 64 KiB
 *   block); erase `head` sectors one by one; then the ROM computes the
 *   remainder from the head loop's counter after it reached zero, so the
 *   remainder is n, not n - head (the erase bug); blocks while more than a
 *   block's worth remains; then single sectors.  A refusal from
 *   SPIEraseSector/SPIEraseBlock midway fails the call with whatever was
 *   erased so far already gone.
 */
int rom_SPIEraseArea(uint32_t offset, uint32_t size)
{
    if ((uint64_t)offset + size > F.p_size || !F.p_sector ||
        offset % F.p_sector)
        return 1;
    uint32_t per_block = F.p_block / F.p_sector;
    uint32_t sector = offset / F.p_sector;
    uint32_t n = size / F.p_sector + (size % F.p_sector != 0);
    uint32_t head = per_block - sector % per_block;
    if (head > n)
        head = n;
    for (uint32_t i = 0; i < head; i++)
        if (rom_SPIEraseSector(sector++))
            return 1;
    uint32_t left = n;
    while (left > per_block) {
        if (rom_SPIEraseBlock(sector / per_block))
            return 1;
        sector += per_block;
        left -= per_block;
    }
    while (left > 0) {
        if (rom_SPIEraseSector(sector++))
            return 1;
        left--;
    }
    return 0;
}

/* SPIWrite (0x4a4c): refuses addr + len > chip_size; programs page by
 * page (the first piece up to the page boundary). */
int rom_SPIWrite(uint32_t addr, const uint8_t *src, uint32_t len)
{
    if ((uint64_t)addr + len > F.p_size)
        return 1;
    uint32_t page = F.p_page ? F.p_page : 256;
    while (len > 0) {
        uint32_t n = page - addr % page;
        if (n > len)
            n = len;
        chip_program(addr, src, n);
        addr += n;
        src += n;
        len -= n;
    }
    return 0;
}

/* SPIRead (0x4b1c) has no size check of its own in the disassembly. */
int rom_SPIRead(uint32_t addr, uint8_t *dst, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        dst[i] = F.mem[phys(addr + i)];
    return 0;
}

/* ---- SPI0 user commands -------------------------------------------------- */

void flash_spi_user_command(uint32_t (*reg)(uint32_t),
                            void (*set)(uint32_t, uint32_t))
{
    const uint32_t base = 0x60000200u;
    uint32_t usr = reg(base + 0x1C), usr1 = reg(base + 0x20);
    uint32_t usr2 = reg(base + 0x24);
    uint8_t cmd = (uint8_t)usr2;
    uint32_t cmd_bits = (usr2 >> 28) + 1;
    bool has_cmd = usr & (1u << 31), has_addr = usr & (1u << 30);
    bool has_miso = usr & (1u << 28);
    uint32_t miso_bits = has_miso ? ((usr1 >> 8) & 0x1FF) + 1 : 0;
    uint32_t addr_bits = has_addr ? ((usr1 >> 26) & 0x3F) + 1 : 0;
    uint8_t out[64];
    memset(out, 0xFF, sizeof out);
    if (!F.attached || !has_cmd || cmd_bits != 8) {
        /* Nothing drives MISO until the ROM has attached the flash. */
    } else if (cmd == 0x9F && !has_addr) {
        out[0] = (uint8_t)F.jedec;
        out[1] = (uint8_t)(F.jedec >> 8);
        out[2] = (uint8_t)(F.jedec >> 16);
    } else if (cmd == 0x03 && addr_bits == 24) {
        uint32_t addr = reg(base + 0x04) >> 8;
        for (uint32_t i = 0; i < sizeof out; i++)
            out[i] = F.mem[phys(addr + i)];
    } else {
        logf_("SPI user command 0x%02x not modelled", cmd);
    }
    /* Only the MISO bits are shifted into W0..W15; the rest of the last
     * word keeps what the host put there (esptool clears W0 first). */
    uint32_t bytes = (miso_bits + 7) / 8;
    if (bytes > 64)
        bytes = 64;
    for (uint32_t i = 0; i < bytes; i += 4) {
        uint8_t w[4];
        uint32_t old = reg(base + 0x40 + i);
        for (uint32_t k = 0; k < 4; k++)
            w[k] = i + k < bytes ? out[i + k] : (uint8_t)(old >> (8 * k));
        set(base + 0x40 + i, esp01_le32(w));
    }
}
