# esp01 - one plain Makefile.
#
#   make               library, tool and test programs (build/)
#   make test          run every test against build/
#   make check         `make test` twice: plain build and ASan+UBSan build
#   make test-quick    the edit loop's tier: unit tests, fuzz corpora, and the
#                      CLI tests that need no simulated line (under 2 min)
#   make fuzz          libFuzzer harnesses (clang), FUZZ_SECONDS each
#   make bench         benchmarks; results go to bench/RESULTS.md by hand
#   make install       PREFIX=/usr/local (tool, library, headers, device
#                      modules, man page, bash completion)
#   make windows       build/win64/esp01.exe (MinGW-w64 cross compiler)
#   make test-windows  esp01.exe under Wine through the shell tests
#                      (tests/win32/tier.sh; 64-bit Wine)
#   make macos-check   compile what a Mac builds, POSIX-only, on Linux
#
# SAN=1 builds with AddressSanitizer + UndefinedBehaviorSanitizer into
# build/san so both builds can live side by side.

CC      ?= cc
PREFIX  ?= /usr/local
# The shared fixtures sit next to the checkout; a clone made elsewhere
# (CI's fresh clone in /tmp) finds them next to the repository it came from.
SHARED  ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared)) \
             $(abspath $(shell git config --get remote.origin.url 2>/dev/null)/../shared) \
             $(abspath $(CURDIR)/../shared))
FUZZ_SECONDS ?= 30

ifeq ($(SAN),1)
BUILD   ?= build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      = -O1 -g
else
BUILD   ?= build
SANFLAGS =
OPT      = -O2 -g
endif

WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= $(OPT)
ifeq ($(WERROR),1)
WARN    += -Werror
endif
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) \
             -Iinclude -Isrc -DESP01_DATADIR='"$(PREFIX)/share/esp01"' -MMD -MP
# libcurl (libcurl4-openssl-dev) is not linked: src/os/posix/http.c loads it with
# dlopen when a download starts, because linking it made every esp01
# command start tens of milliseconds slower (bench/RESULTS.md).
# src/os/posix/ serves Linux and macOS: the files named *_linux.c and
# *_macos.c are the parts only one of them has (sysfs, libmd, the baud
# rates of termios; /dev/cu.*, CommonCrypto, IOSSIOSPEED), picked here by
# `uname -s` (src/os/README.md).  macOS has openpty() in its libc and
# MD5/SHA in CommonCrypto: no -lutil (tests/tools/relay.c) or -lmd there.
UNAME_S := $(shell uname -s)
ifeq ($(UNAME_S),Darwin)
POSIX_OTHER = %_linux.c
LDLIBS   = -lz -lm
else
POSIX_OTHER = %_macos.c
LDLIBS   = -lz -lmd -lm -lutil
endif
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# The library is every .c below src/ but the tool's own src/cli/ (one
# folder per subsystem, docs/architecture.md) and the other OS's backend.
LIB_SRC  = $(sort $(filter-out src/cli/% src/os/win32/% src/os/posix/$(POSIX_OTHER),\
             $(wildcard src/*/*.c src/*/*/*.c)))
CLI_SRC  = $(sort $(wildcard src/cli/*.c))
TEST_SRC = $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRC = $(sort $(wildcard tests/tools/*.c))
BENCH_SRC = $(sort $(wildcard bench/*.c))
FUZZ_SRC = $(sort $(wildcard fuzz/fuzz_*.c))

LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB      = $(BUILD)/libesp01.a
ESP01    = $(BUILD)/esp01
# The manual page, written from the binary's own help texts.
MAN      = $(BUILD)/esp01.1
TESTS    = $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOLS    = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%) $(BUILD)/tests/tools/romsim
# The ROM loader simulator is several files (tests/tools/romsim/).
ROMSIM_SRC = $(sort $(wildcard tests/tools/romsim/*.c))
ROMSIM_OBJ = $(ROMSIM_SRC:tests/tools/romsim/%.c=$(BUILD)/tests/romsim/%.o)
BENCHES  = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZERS  = $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
# The same harnesses built with $(CC) and a plain main (fuzz/replay.c) that
# replays their corpora: the test suite runs them without clang.
REPLAYS  = $(FUZZ_SRC:fuzz/%.c=$(BUILD)/tests/fuzz/%)

# The flasher stub's protocol core (stub/) also builds for the host, on a
# fake chip (stub/host/), for its unit test and fuzz harnesses.
STUB_CORE_SRC = stub/baud.c stub/cmd.c stub/flash.c stub/inflate.c \
                stub/read.c stub/rx.c stub/stub.c stub/write.c
STUB_HOST_SRC = $(STUB_CORE_SRC) stub/host/fake.c stub/qemu/rom_md5.c
STUB_HOST_OBJ = $(STUB_HOST_SRC:%.c=$(BUILD)/stubhost/%.o)
STUB_HOST_CFLAGS = -DSTUB_HOST -Istub

.PHONY: all test test-quick test-windows check fuzz fuzz-build bench install clean stub-image windows macos-check
all: $(LIB) $(ESP01) $(MAN) $(TESTS) $(TOOLS) $(REPLAYS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(ESP01): $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(MAN): $(ESP01) man/mkman.sh
	sh man/mkman.sh $(ESP01) > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests/romsim/%.o: tests/tools/romsim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/tools/romsim: $(ROMSIM_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(ROMSIM_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/stubhost/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(STUB_HOST_CFLAGS) -c $< -o $@

$(BUILD)/tests/unit/test_stub.o: ALL_CFLAGS += $(STUB_HOST_CFLAGS)
$(BUILD)/tests/test_stub: $(BUILD)/tests/unit/test_stub.o $(STUB_HOST_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(STUB_HOST_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/fuzz/replay.o: fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/tests/fuzz/%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(STUB_HOST_CFLAGS) -c $< -o $@
$(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay.o $(STUB_HOST_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/tests/fuzz/replay.o $(STUB_HOST_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

test: all
	BUILD=$(BUILD) SHARED=$(SHARED) tests/run.sh

# No script here waits on a simulated serial line or a MicroPython peer.
QUICK_CLI = tests/cli/arch.sh tests/cli/fuzz_replay.sh tests/cli/build.sh \
            tests/cli/info.sh tests/cli/fs.sh tests/cli/fat.sh tests/cli/fs_fat.sh \
            tests/cli/stub_image.sh
test-quick: all
	BUILD=$(BUILD) SHARED=$(SHARED) tests/run.sh $(notdir $(TESTS)) $(QUICK_CLI)

# `make check` also builds esp01.exe and runs the Windows tier under Wine,
# in the same tally (tests/check.sh); a .exe that does not link fails the
# check.  CHECK_WINDOWS=0 leaves it out (a machine without MinGW or Wine).
CHECK_WINDOWS ?= 1
check:
	$(MAKE) all
	$(MAKE) SAN=1 all
	$(MAKE) fuzz-build
	$(MAKE) macos-check
	CHECK_WINDOWS=$(CHECK_WINDOWS) SHARED=$(SHARED) tests/check.sh build build/san

# libFuzzer needs clang.  The library is compiled once with coverage
# instrumentation (fuzzer-no-link) and every harness links against it.
FUZZ_CC = clang
FUZZ_BASE = -std=c11 -D_DEFAULT_SOURCE -g -O1 -Iinclude -Isrc
FUZZ_OBJ = $(LIB_SRC:%.c=build/fuzz/obj/%.o)
fuzz-build: $(FUZZERS)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@
build/fuzz/%: fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJ) $(LDLIBS)
# Harnesses of the stub (fuzz_stub_*) link its core on the fake chip too.
FUZZ_STUB_OBJ = $(STUB_HOST_SRC:%.c=build/fuzz/stubobj/%.o)
build/fuzz/stubobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) $(STUB_HOST_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@
$(filter build/fuzz/fuzz_stub_%,$(FUZZERS)): build/fuzz/%: fuzz/%.c $(FUZZ_OBJ) $(FUZZ_STUB_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) $(STUB_HOST_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_STUB_OBJ) $(FUZZ_OBJ) $(LDLIBS)

fuzz: fuzz-build
	@for f in $(FUZZERS); do \
	  n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus-$$n fuzz/corpus/$$n || exit 1; \
	done

# ---- the flasher stub on the lx106 (docs/stub.md) --------------------
# The real image (make stub-image -> src/flash/stub_image.c, committed, so that
# building esp01 needs no cross compiler) and the QEMU build the tests run
# (built by `make` whenever the cross compiler is there).
XCC ?= xtensa-lx106-elf-gcc
HAVE_XCC := $(shell command -v $(XCC) 2>/dev/null)
# Every KiB of the image is ~90 ms of upload at the ROM's 115200 baud, on
# every session, so it is built for size: link-time optimisation; at the
# link one section for all the code, so functions share literal pools
# (-fno-function-sections: LTO has already dropped what nothing calls);
# no alignment of branch targets (speed only); no jump tables, so that the
# image has no constant data and uploads as one segment; no MEMW before
# every volatile access (stub/esp8266.c puts one before each register
# access, the only place it matters).
XFLAGS = -std=gnu11 -Os -g -flto -mno-target-align -fno-jump-tables \
         -mno-serialize-volatile -ffreestanding -nostdlib -mlongcalls \
         -ffunction-sections -fdata-sections -fno-tree-loop-distribute-patterns \
         $(WARN) -Istub -MMD -MP
XLDFLAGS = -nostdlib -Wl,--gc-sections -Lstub -Lstub/qemu \
           -fno-function-sections -fno-data-sections
STUB_X_SRC = $(STUB_CORE_SRC) stub/ccount.c stub/entry.S
STUB_CHIP_OBJ = $(patsubst %,$(BUILD)/stub/lx106/%.o,$(basename $(STUB_X_SRC) stub/esp8266.c))
STUB_QEMU_OBJ = $(patsubst %,$(BUILD)/stub/lx106/%.o,$(basename $(STUB_X_SRC) stub/qemu/hw.c \
                stub/qemu/rom_fake.c stub/qemu/rom_libc.c stub/qemu/rom_md5.c stub/qemu/rom_vectors.S))
STUB_VERSION := $(shell sed -n 's/^\#define STUB_VERSION "\(.*\)"/\1/p' stub/stub.h)
STUB_IMAGE_OUT ?= src/flash/stub_image.c

# The fake ROM is placed by object file name (qemu.ld): no LTO for it.
$(BUILD)/stub/lx106/stub/qemu/rom_%.o: stub/qemu/rom_%.c
	@mkdir -p $(dir $@)
	$(XCC) $(XFLAGS) -fno-lto -DSTUB_QEMU_ROM -c $< -o $@
$(BUILD)/stub/lx106/%.o: %.c
	@mkdir -p $(dir $@)
	$(XCC) $(XFLAGS) -c $< -o $@
$(BUILD)/stub/lx106/%.o: %.S
	@mkdir -p $(dir $@)
	$(XCC) $(XFLAGS) -c $< -o $@
$(BUILD)/stub/stub-esp8266.elf: $(STUB_CHIP_OBJ) stub/esp8266.ld stub/sections.ld stub/rom.ld
	$(XCC) $(XFLAGS) $(XLDFLAGS) -Wl,-T,esp8266.ld -o $@ $(STUB_CHIP_OBJ) -lgcc
$(BUILD)/stub/stub-qemu.elf: $(STUB_QEMU_OBJ) stub/qemu/qemu.ld stub/sections.ld stub/rom.ld
	$(XCC) $(XFLAGS) $(XLDFLAGS) -Wl,-T,qemu.ld -o $@ $(STUB_QEMU_OBJ) -lgcc
$(BUILD)/stub/elf2c: stub/elf2c.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<
stub-image: $(BUILD)/stub/stub-esp8266.elf $(BUILD)/stub/elf2c
	$(BUILD)/stub/elf2c $< "$(STUB_VERSION)" $(STUB_IMAGE_OUT)
ifneq ($(HAVE_XCC),)
all: $(BUILD)/stub/stub-qemu.elf
endif

bench: all $(BENCHES)
	BUILD=$(BUILD) SHARED=$(SHARED) bench/run.sh

COMPLETIONS_DIR ?= $(PREFIX)/share/bash-completion/completions
install: $(LIB) $(ESP01) $(MAN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/esp01 $(DESTDIR)$(PREFIX)/share/esp01/device \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(COMPLETIONS_DIR)
	install -m 755 $(ESP01) $(DESTDIR)$(PREFIX)/bin/esp01
	install -m 644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man1/esp01.1
	install -m 644 completion/esp01.bash $(DESTDIR)$(COMPLETIONS_DIR)/esp01
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libesp01.a
	install -m 644 include/esp01/*.h $(DESTDIR)$(PREFIX)/include/esp01/
	for f in device/*.py; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/esp01/device/; done; true

# ---- Windows: esp01.exe from the MinGW-w64 cross compiler ------------
# (Debian: gcc-mingw-w64-x86-64, libz-mingw-w64-dev).  The same sources
# with src/os/win32/ in place of src/os/posix/.  Static, so the .exe runs
# alone: zlib, and MinGW's runtime.  %zu needs MinGW's C99 printf, and
# format checking to match it (ESP01_PRINTF_FORMAT, esp01.h).  -municode:
# the program starts in wmain (src/os/win32/main.c), for UTF-8 arguments.
WIN_CC      ?= x86_64-w64-mingw32-gcc
WIN_AR      ?= x86_64-w64-mingw32-ar
WIN_BUILD   ?= build/win64
WIN_CFLAGS   = -std=c11 $(WARN) -O2 -g -Iinclude -Isrc -D_WIN32_WINNT=0x0601 \
               -D__USE_MINGW_ANSI_STDIO=1 -DESP01_PRINTF_FORMAT=gnu_printf \
               -DESP01_DATADIR='"share/esp01"' -MMD -MP
WIN_LDLIBS   = -static -lz -lpthread -lsetupapi -lcfgmgr32 -lwinhttp -lbcrypt -lws2_32 -ladvapi32
WIN_LIB_SRC  = $(sort $(filter-out src/cli/% src/os/posix/%,$(wildcard src/*/*.c src/*/*/*.c)))
WIN_LIB_OBJ  = $(WIN_LIB_SRC:%.c=$(WIN_BUILD)/%.o)
WIN_CLI_OBJ  = $(CLI_SRC:%.c=$(WIN_BUILD)/%.o)
WIN_PROBE_OBJ = $(filter $(WIN_BUILD)/src/os/% $(WIN_BUILD)/src/util/%,$(WIN_LIB_OBJ))

$(WIN_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@
$(WIN_BUILD)/libesp01.a: $(WIN_LIB_OBJ)
	rm -f $@
	$(WIN_AR) rcs $@ $^
# -s: the symbols stay in the objects; the .exe people download is the
# small one (bench/RESULTS.md has its size).
$(WIN_BUILD)/esp01.exe: $(WIN_CLI_OBJ) $(WIN_BUILD)/libesp01.a
	$(WIN_CC) -municode -s -o $@ $(WIN_CLI_OBJ) $(WIN_BUILD)/libesp01.a $(WIN_LDLIBS)
windows: $(WIN_BUILD)/esp01.exe
# The Win32 backends alone, for a run under Wine (tests/win32/README.md):
# serial, port list, hashes, HTTP, files (wincom_probe); processes, Ctrl-C,
# terminal and TCP (os_probe).
$(WIN_BUILD)/wincom_probe.exe: tests/win32/wincom_probe.c $(WIN_PROBE_OBJ)
	$(WIN_CC) $(WIN_CFLAGS) -o $@ $^ $(WIN_LDLIBS)
$(WIN_BUILD)/os_probe.exe: tests/win32/os_probe.c $(WIN_PROBE_OBJ)
	$(WIN_CC) $(WIN_CFLAGS) -o $@ $^ $(WIN_LDLIBS)

# The Windows tier: needs the Linux build too (the tests' own tools).
test-windows: all windows $(WIN_BUILD)/wincom_probe.exe $(WIN_BUILD)/os_probe.exe
	BUILD=$(BUILD) SHARED=$(SHARED) tests/win32/tier.sh

# ---- macOS, checked from Linux (tests/macos/README.md) ----------------
# What a Mac compiles, with glibc declaring POSIX only (no _DEFAULT_SOURCE)
# plus what macOS has beyond it (tests/macos/darwin.h) and stand-ins for
# Apple's own headers: a Linux-only call fails here.  Syntax only.
MAC_CC     ?= clang
MAC_SRC     = $(sort $(filter-out src/os/win32/% src/os/posix/%_linux.c,\
                $(wildcard src/*/*.c src/*/*/*.c)))
MAC_CFLAGS  = -std=c11 $(WARN) -Werror -D_POSIX_C_SOURCE=200809L -D_DARWIN_C_SOURCE \
              -Iinclude -Isrc -Itests/macos/include -include tests/macos/darwin.h \
              -DESP01_DATADIR='"/usr/local/share/esp01"'
MAC_STAMPS  = $(MAC_SRC:%.c=build/macos-check/%.ok)
MAC_HDRS    = $(wildcard include/esp01/*.h src/*/*.h src/*/*/*.h tests/macos/*.h \
                tests/macos/include/*/*.h tests/macos/include/*/*/*.h)
build/macos-check/%.ok: %.c $(MAC_HDRS)
	@mkdir -p $(dir $@)
	@$(MAC_CC) $(MAC_CFLAGS) -fsyntax-only $<
	@touch $@
macos-check: $(MAC_STAMPS)
	@echo "macos-check: $(words $(MAC_SRC)) files compile as on macOS"

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
