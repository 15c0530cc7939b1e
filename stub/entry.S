/*
 * entry.S - where MEM_END jumps (the image's entry point), in both lx106
 * builds.  The ROM's return address is replaced by the flash-boot path in
 * ROM main, so that stub_main() returning (after RUN_USER_CODE) boots the
 * user firmware as a normal reset would.
 */
    .section .text.entry, "ax"
    .literal_position
    .align 4
    .global stub_entry
    .type stub_entry, @function
stub_entry:
    movi    a0, rom_flash_boot_return
    j       stub_main
    .size stub_entry, . - stub_entry
