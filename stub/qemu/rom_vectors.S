/*
 * rom_vectors.S - the QEMU build's stand-in for the ESP8266 ROM's code
 * layout: the reset vector QEMU starts at, exception vectors at VECBASE
 * 0x40000000 (where the chip's ROM has its own), and at each ROM address
 * the stub calls (rom.ld) a jump to the test version in rom_fake.c.
 * qemu.ld puts each .rom.NAME section at the address of NAME.
 */

/* QEMU's lx106 starts here, whatever the ELF entry says. */
    .section .reset, "ax"
    .global rom_reset
rom_reset:
    j       1f
    .align 4
2:  .word   rom_reset_start
1:  l32r    a0, 2b
    jx      a0

/* VECBASE-relative vectors of the lx106. */
    .section .vectors, "ax"
    .global rom_vectors
rom_vectors:
    .org    0x10            /* debug */
    j       rom_fault_entry
    .org    0x20            /* NMI */
    j       rom_fault_entry
    .org    0x30            /* kernel exception */
    j       rom_level1_entry
    .org    0x50            /* user exception */
    j       rom_level1_entry
    .org    0x70            /* double exception */
    j       rom_double_entry

    .text
    .literal_position
    .align 4
rom_reset_start:
    movi    a1, 0x3FFFFFF0  /* the ROM's stack starts at the top of DRAM */
    movi    a2, 0x40000000
    wsr     a2, vecbase
    movi    a2, 0
    wsr     a2, intenable
    movi    a2, 0x20        /* PS: user mode, EXCM 0, INTLEVEL 0 */
    wsr     a2, ps
    rsync
    call0   rom_boot
3:  j       3b

/* Level-1 interrupts only come from the CCOMPARE0 timer the QEMU UART
   layer sleeps on: switch it off and return.  Anything else is a fault. */
    .align 4
rom_level1_entry:
    wsr     a2, excsave1
    rsr     a2, exccause
    bnei    a2, 4, rom_fault_entry
    movi    a2, 0
    wsr     a2, intenable
    rsr     a2, excsave1
    rfe

    .align 4
rom_fault_entry:
    movi    a1, rom_fault_stack_top
    rsr     a2, exccause
    rsr     a3, epc1
    rsr     a4, excvaddr
    call0   rom_fault
4:  j       4b

    .align 4
rom_double_entry:
    movi    a1, rom_fault_stack_top
    movi    a2, 0x100       /* not an EXCCAUSE value: marks a double exception */
    rsr     a3, depc
    rsr     a4, excvaddr
    call0   rom_fault
5:  j       5b

    .section .bss.rom_fault_stack, "aw", @nobits
    .align 16
    .space 1024
rom_fault_stack_top:

/* One jump per ROM function: the stub calls these addresses. */
    .macro rom_stub name
    .section .rom.\name, "ax"
    .global rom_at_\name
rom_at_\name:
    j       fake_\name
    .endm

    rom_stub SPIRead
    rom_stub SPIWrite
    rom_stub SPIEraseSector
    rom_stub SPIEraseBlock
    rom_stub SPIEraseChip
    rom_stub SPIUnlock
    rom_stub SPIParamCfg
    rom_stub SelectSpiFunction
    rom_stub spi_flash_attach
    rom_stub MD5Init
    rom_stub MD5Update
    rom_stub MD5Final
    rom_stub uart_div_modify
    rom_stub ets_delay_us
    rom_stub ets_get_cpu_frequency
    rom_stub ets_set_user_start
    rom_stub ets_isr_attach
    rom_stub ets_isr_mask
    rom_stub ets_isr_unmask
    rom_stub software_reset
    rom_stub __udivsi3
    rom_stub __umodsi3
    rom_stub __divsi3
    rom_stub memcpy
    rom_stub memset
    rom_stub rom_flash_boot_return
