/*
 * Handing the line to the QEMU build of esp01's flasher stub.  Filled in
 * once the stub exists; until then an uploaded program is never ours.
 */
#include <stdio.h>

#include "sim.h"

bool stub_matches_upload(char *why, size_t cap)
{
    snprintf(why, cap, "this romsim has no stub to compare with");
    return false;
}

int stub_run(void) { return -1; }
