/*
 * flashfleet.h - `esp01 flash` on several boards at once: one esp01
 * process per port (the same command with that --port), one line of
 * progress per board, a summary; one board's failure does not stop the
 * others.
 */
#ifndef ESP01_FLASHFLEET_H
#define ESP01_FLASHFLEET_H

#include <stdbool.h>

/* More than one --port, or --all-ports, or --board-config. */
bool flashfleet_wanted(int argc, char **argv);
/* EXIT_OK when every board was written, else EXIT_FAIL (or EXIT_USAGE). */
int flashfleet_run(int argc, char **argv);

#endif
