# SPDX-License-Identifier: Apache-2.0
# Coffer's build: one non-recursive Makefile. `make help` lists the targets.
# Sources are found by wildcard: a new .c file in a listed directory needs no
# edit here. Objects and binaries go to $(BUILD) (build/, build-san/ for
# sanitizer builds, build-tsan/ for ThreadSanitizer's, which cannot be mixed
# with ASan's), so several configurations can coexist.

.DEFAULT_GOAL := all
SHELL := /bin/bash

SANITIZE ?=
BUILD ?= $(if $(SANITIZE),$(if $(findstring thread,$(SANITIZE)),build-tsan,build-san),build)
DEVELOPER ?= 1
CC ?= cc
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 15
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

# ---------------------------------------------------------------------------
# Flags
PKGS_CORE := openssl jansson
PKGS_ALL := $(PKGS_CORE) libevent libevent_openssl hiredis sqlite3 libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS_ALL) 2>/dev/null)
LIBS_CORE := $(shell pkg-config --libs $(PKGS_CORE) 2>/dev/null) -ldl -lpthread -lm
LIBS_REDIS := $(shell pkg-config --libs hiredis 2>/dev/null)
LIBS_EVENT := $(shell pkg-config --libs libevent libevent_openssl 2>/dev/null)
# libevent without its TLS half: the worker's HTTP client (http/client.c).
LIBS_EVENT_CORE := $(shell pkg-config --libs libevent 2>/dev/null)
LIBS_SQLITE := $(shell pkg-config --libs sqlite3 2>/dev/null)
LIBS_CURL := $(shell pkg-config --libs libcurl 2>/dev/null)
LIBS_ALL := $(LIBS_CURL) $(LIBS_SQLITE) $(LIBS_EVENT) $(LIBS_REDIS) $(LIBS_CORE)
LIBS_CMOCKA := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wvla \
	-Wmissing-prototypes -Wno-unused-parameter -Wno-format-truncation
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
OPT ?= -O2
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(OPT) -fno-strict-aliasing \
	-fstack-protector-strong -fPIC -Iinclude -Isrc $(PKG_CFLAGS) \
	-DCOFFER_VERSION='"$(VERSION)"'
ifneq ($(SANITIZE),)
BASE_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
else
BASE_CFLAGS += -D_FORTIFY_SOURCE=2
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(WARN) $(CFLAGS)
LDFLAGS += -Wl,--as-needed -Wl,-z,relro -Wl,-z,now

# ---------------------------------------------------------------------------
# The library, in three static archives by layer (doc/DEVELOPING.md,
# "Layers"; scripts/check-layers enforces the rules):
#   libcoffer-core.a     the trusted core: lib, crypto, tee, proto
#   libcoffer-runtime.a  what the trusted binaries may also link: http,
#                        store, queue (their input is hostile)
#   libcoffer-control.a  the control plane's: actuator, controllers
# Each binary links only the archives it may use, so the worker and the
# coordinator cannot pull in control-plane code even by accident. Thin
# archives (ar T): they name the objects by path, so a linker map says
# exactly which files a binary holds (scripts/trusted-size).
CORE_DIRS := src/lib src/crypto src/tee src/proto
RUNTIME_DIRS := src/http src/store src/queue
CONTROL_DIRS := src/actuator src/controllers
LIB_DIRS := $(CORE_DIRS) $(RUNTIME_DIRS) $(CONTROL_DIRS)
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
objs_of = $(patsubst %.c,$(BUILD)/obj/%.o,$(foreach d,$(1),$(wildcard $(d)/*.c)))
A_CORE := $(BUILD)/libcoffer-core.a
A_RUNTIME := $(BUILD)/libcoffer-runtime.a
A_CONTROL := $(BUILD)/libcoffer-control.a
$(A_CORE): $(call objs_of,$(CORE_DIRS))
$(A_RUNTIME): $(call objs_of,$(RUNTIME_DIRS))
$(A_CONTROL): $(call objs_of,$(CONTROL_DIRS))
# Every archive, in link order (a layer before the layers it uses): for
# tests, tools, benchmarks and the untrusted binaries.
LIBCOFFER := $(A_CONTROL) $(A_RUNTIME) $(A_CORE)

# Binaries: one directory each, linked with only the archives (ARCH_*) and
# the libraries (LIBS_*) it may use. Each link writes its map to
# $(BUILD)/maps/<binary>.map.
BIN_coffer := src/cli
BIN_coffer-worker := src/worker
BIN_coffer-manager := src/manager
BIN_coffer-coordinator := src/coordinator
ARCH_coffer := $(LIBCOFFER)
ARCH_coffer-worker := $(A_RUNTIME) $(A_CORE)
ARCH_coffer-manager := $(LIBCOFFER)
ARCH_coffer-coordinator := $(A_RUNTIME) $(A_CORE)
# coffer does not link libcurl: src/cli/curl_shim.c loads it with dlopen(3)
# when `coffer job` first talks HTTP (it is still a build dependency, for
# <curl/curl.h>). Linked, it maps 28 more libraries (GnuTLS, Kerberos, LDAP,
# ...) at every start: the owner-side tool must stay small (`coffer seal`
# of a 1 GiB file under 8 MiB of peak RSS, BENCHMARKS.md) and load as little
# code as it can on the machine that holds the keys.
LIBS_coffer := $(LIBS_REDIS) $(LIBS_CORE)
# The worker talks to the coordinator over plain HTTP (http/client.c, on
# libevent); everything that matters in it is wrapped or MAC'd.
LIBS_coffer-worker := $(LIBS_EVENT_CORE) $(LIBS_REDIS) $(LIBS_CORE)
LIBS_coffer-manager := $(LIBS_CURL) $(LIBS_SQLITE) $(LIBS_EVENT) $(LIBS_REDIS) $(LIBS_CORE)
# Nor does the coordinator serve TLS (http/tls.c is not linked): its answers
# are wrapped or signed end to end, and libssl stays out of its process.
LIBS_coffer-coordinator := $(LIBS_SQLITE) $(LIBS_EVENT_CORE) $(LIBS_CORE)
BIN_NAMES := $(foreach b,coffer coffer-worker coffer-manager coffer-coordinator,\
	$(if $(wildcard $(BIN_$(b))/main.c),$(b)))
BINS := $(BIN_NAMES:%=$(BUILD)/bin/%)

# The dashboard's files, compiled into the manager by scripts/embed-assets
# (plain sh and od: no network, no bundler). GEN_coffer-manager is linked
# into the manager, its unit tests and its fuzzers.
DASHBOARD_FILES := $(sort $(wildcard src/manager/ui/*))
$(BUILD)/gen/manager/dashboard_assets.c: scripts/embed-assets $(DASHBOARD_FILES)
	@mkdir -p $(@D)
	$(E) "  EMBED   $@"
	$(Q)scripts/embed-assets $@ $(DASHBOARD_FILES)
$(BUILD)/obj/gen/manager/%.o: $(BUILD)/gen/manager/%.c
	@mkdir -p $(@D)
	$(E) "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
GEN_coffer-manager := $(BUILD)/obj/gen/manager/dashboard_assets.o

define bin_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(BIN_$(1))/*.c)) $(GEN_$(1)) $(ARCH_$(1))
	@mkdir -p $$(@D) $(BUILD)/maps
	$$(E) "  LINK    $$@"
	$$(Q)$$(CC) $$(LDFLAGS) -Wl,-Map=$(BUILD)/maps/$(1).map -o $$@ $$^ $$(LIBS_$(1))
endef
$(foreach b,$(BIN_NAMES),$(eval $(call bin_rule,$(b))))

# Apps: apps/<name>/plugin.c -> $(BUILD)/apps/<name>.so (plugin ABI),
#       apps/<name>/main.c   -> $(BUILD)/apps/<name>    (executable app).
# The app's other .c files are linked into both. Apps are self-contained:
# they include only include/coffer/*.h and their own headers. An app with
# build-time generated sources or libraries of its own says so in
# apps/<name>/app.mk (included below, after the fuzzing section):
#   APP_GEN_<name>  generated .c files under $(BUILD)/gen/apps/<name>/, with
#                   the rules that make them;
#   APP_LIBS_<name> libraries to link.
APP_NAMES := $(sort $(patsubst apps/%/,%,$(dir $(wildcard apps/*/plugin.c apps/*/main.c))))
APP_PLUGINS := $(patsubst apps/%/plugin.c,$(BUILD)/apps/%.so,$(wildcard apps/*/plugin.c))
APP_EXECS := $(patsubst apps/%/main.c,$(BUILD)/apps/%,$(wildcard apps/*/main.c))
# An executable app's declared parameters: apps/<name>/params.json ->
# $(BUILD)/apps/<name>.params.json, next to it (doc/format/app-abi.md 5).
APP_MANIFESTS := $(patsubst apps/%/params.json,$(BUILD)/apps/%.params.json,$(wildcard apps/*/params.json))
$(BUILD)/apps/%.params.json: apps/%/params.json
	@mkdir -p $(@D)
	$(Q)cp $< $@
app_common_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out apps/$(1)/plugin.c \
	apps/$(1)/main.c,$(wildcard apps/$(1)/*.c))) \
	$(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(APP_GEN_$(1)))
define app_rule
$(BUILD)/apps/$(1).so: $(BUILD)/obj/apps/$(1)/plugin.o $(call app_common_objs,$(1))
	@mkdir -p $$(@D)
	$$(E) "  PLUGIN  $$@"
	$$(Q)$$(CC) -shared $$(LDFLAGS) -o $$@ $$^ $$(APP_LIBS_$(1))
$(BUILD)/apps/$(1): $(BUILD)/obj/apps/$(1)/main.o $(call app_common_objs,$(1))
	@mkdir -p $$(@D)
	$$(E) "  APP     $$@"
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(APP_LIBS_$(1)) $$(LIBS_CORE)
endef
$(BUILD)/obj/apps/%.o: ALL_CFLAGS += -fvisibility=hidden
# Generated app sources include their app's headers.
$(BUILD)/obj/gen/apps/%.o: $(BUILD)/gen/apps/%.c
	@mkdir -p $(@D)
	$(E) "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -fvisibility=hidden -Iapps/$(firstword $(subst /, ,$*)) \
		-MMD -MP -c -o $@ $<

# Controller plugins: src/controllers/ctl_<name>.c are built into libcoffer
# (the built-in controllers) and also as $(BUILD)/controllers/<name>.so, so
# the plugin loading path is exercised with real plugins.
CTL_PLUGINS := $(patsubst src/controllers/ctl_%.c,$(BUILD)/controllers/%.so,$(wildcard src/controllers/ctl_*.c))
$(BUILD)/controllers/%.so: src/controllers/ctl_%.c $(wildcard include/coffer/*.h src/controllers/*.h)
	@mkdir -p $(@D)
	$(E) "  PLUGIN  $@"
	$(Q)$(CC) $(ALL_CFLAGS) -DCOFFER_CONTROLLER_PLUGIN -fvisibility=hidden -shared $(LDFLAGS) -o $@ $< -lm

# ---------------------------------------------------------------------------
# Objects. `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
E := @true
else
Q := @
E := @echo
endif
.SECONDARY:

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(E) "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(A_CORE) $(A_RUNTIME) $(A_CONTROL):
	@mkdir -p $(@D)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcsT $@ $^

# ---------------------------------------------------------------------------
# Tests: tests/unit/test_<module>.c -> $(BUILD)/tests/test_<module> (cmocka),
# with tests/support/*.c shared by all; tests/integration/*.sh run as they
# are. tests/run runs both and prints "N passed, N failed".
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TESTS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/support/*.c))
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_SUPPORT_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_CMOCKA) $(LIBS_ALL)

# The manager's unit tests (test_manager_*) also link the manager's objects,
# all but its main().
MANAGER_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out src/manager/main.c,$(wildcard src/manager/*.c))) $(GEN_coffer-manager)
$(BUILD)/tests/test_manager_%: $(BUILD)/obj/tests/unit/test_manager_%.o $(MANAGER_OBJS) $(TEST_SUPPORT_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_CMOCKA) $(LIBS_ALL)

# The CLI's unit tests (test_cli_*) also link the CLI files they test that
# neither print a command's errors nor need the command table.
CLI_TEST_OBJS = $(BUILD)/obj/src/cli/fetch_http.o $(BUILD)/obj/src/cli/curl_shim.o
$(BUILD)/tests/test_cli_%: $(BUILD)/obj/tests/unit/test_cli_%.o $(CLI_TEST_OBJS) $(TEST_SUPPORT_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_CMOCKA) $(LIBS_ALL)

# The coordinator's unit tests (test_coordinator_*) link its objects, all
# but its main().
COORD_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out src/coordinator/main.c,$(wildcard src/coordinator/*.c)))
$(BUILD)/tests/test_coordinator_%: $(BUILD)/obj/tests/unit/test_coordinator_%.o $(COORD_OBJS) $(TEST_SUPPORT_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_CMOCKA) $(LIBS_ALL)

# The worker's unit tests (test_worker_*) link the worker's objects, all but
# its main(): its parsers and its item pipeline are tested in process.
WORKER_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out src/worker/main.c,$(wildcard src/worker/*.c)))
$(BUILD)/tests/test_worker_%: $(BUILD)/obj/tests/unit/test_worker_%.o $(WORKER_OBJS) $(TEST_SUPPORT_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_CMOCKA) $(LIBS_ALL)

# Test helper programs (tests/tools/*.c), e.g. fault injectors.
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(wildcard tests/tools/*.c))
$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)

# The stand-in coordinator of the worker's integration tests.
$(BUILD)/tests/tools/fakecoord: $(BUILD)/obj/tests/tools/fakecoord.o $(BUILD)/obj/tests/support/fake_coord.o $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)

# ---------------------------------------------------------------------------
# Benchmarks: bench/*.c -> $(BUILD)/bench/*; bench/run runs bench/*.sh.
BENCH_PROGS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_ALL)

# Benchmarks of the coordinator's parts (bench/coord_*.c) link its
# objects, all but its main().
$(BUILD)/bench/coord_%: $(BUILD)/obj/bench/coord_%.o $(COORD_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_ALL)

# Benchmarks of the worker's parts (bench/worker_*.c) link its objects,
# all but its main().
$(BUILD)/bench/worker_%: $(BUILD)/obj/bench/worker_%.o $(WORKER_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_ALL)

# --- controller simulator (bench/controllers/, owned by the controllers) ---
# One multi-file program, $(BUILD)/bench/controllers-sim; its engine (every
# file but main.c) is also linked into tests/unit/test_sim.c.
SIM_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out bench/controllers/main.c,$(wildcard bench/controllers/*.c)))
BENCH_PROGS += $(BUILD)/bench/controllers-sim
$(BUILD)/bench/controllers-sim: $(BUILD)/obj/bench/controllers/main.o $(SIM_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)
$(BUILD)/obj/tests/unit/test_sim.o: CFLAGS += -Ibench/controllers
$(BUILD)/tests/test_sim: $(BUILD)/obj/tests/unit/test_sim.o $(SIM_OBJS) $(TEST_SUPPORT_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_CMOCKA) $(LIBS_ALL)
# --- end of the controller simulator ---

# ---------------------------------------------------------------------------
# Fuzzing: tests/fuzz/fuzz_<name>.c -> $(FUZZ_BUILD)/fuzz_<name>, built with
# clang's libFuzzer, ASan and UBSan against an instrumented copy of the
# library. Corpora: tests/fuzz/corpus/<name>/ (committed, small).
FUZZ_BUILD ?= build-fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc $(PKG_CFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-DCOFFER_FUZZING -DCOFFER_VERSION='"fuzz"'
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
# One archive of every library layer: a fuzzer tests a parser, not the
# layering (scripts/check-layers checks that on the normal build).
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(E) "  CC-FUZZ $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_BUILD)/libcoffer.a: $(FUZZ_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/libcoffer.a
	$(E) "  FUZZER  $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS_ALL)
# The manager's job parsers are fuzzed with the manager's objects (no main()).
FUZZ_MANAGER_OBJS = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(filter-out src/manager/main.c,$(wildcard src/manager/*.c))) \
	$(FUZZ_BUILD)/obj/gen/manager/dashboard_assets.o
$(FUZZ_BUILD)/gen/manager/dashboard_assets.c: scripts/embed-assets $(DASHBOARD_FILES)
	@mkdir -p $(@D)
	$(Q)scripts/embed-assets $@ $(DASHBOARD_FILES)
$(FUZZ_BUILD)/obj/gen/manager/%.o: $(FUZZ_BUILD)/gen/manager/%.c
	@mkdir -p $(@D)
	$(E) "  CC-FUZZ $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
FUZZ_MANAGER_TARGETS := $(FUZZ_BUILD)/fuzz_http_job $(FUZZ_BUILD)/fuzz_asperathos_job \
	$(FUZZ_BUILD)/fuzz_mgr_approvals
$(FUZZ_MANAGER_TARGETS): $(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_MANAGER_OBJS) $(FUZZ_BUILD)/libcoffer.a
	$(E) "  FUZZER  $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS_ALL)

# The coordinator's request parsers (fuzz_coord_*) with its objects.
FUZZ_COORD_OBJS = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(filter-out src/coordinator/main.c,$(wildcard src/coordinator/*.c)))
FUZZ_COORD_TARGETS := $(filter $(FUZZ_BUILD)/fuzz_coord_%,$(FUZZERS))
$(FUZZ_COORD_TARGETS): $(FUZZ_BUILD)/fuzz_coord_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_coord_%.o $(FUZZ_COORD_OBJS) $(FUZZ_BUILD)/libcoffer.a
	$(E) "  FUZZER  $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS_ALL)

# The worker's parsers and item pipeline, with the worker's objects.
FUZZ_WORKER_OBJS = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(filter-out src/worker/main.c,$(wildcard src/worker/*.c)))
FUZZ_WORKER_TARGETS := $(filter $(FUZZ_BUILD)/fuzz_worker_%,$(FUZZERS))
$(FUZZ_WORKER_TARGETS): $(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_WORKER_OBJS) $(FUZZ_BUILD)/obj/tests/support/fake_store.o $(FUZZ_BUILD)/libcoffer.a
	$(E) "  FUZZER  $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS_ALL)

# ---------------------------------------------------------------------------
# Per-app rules (above), after everything an app.mk may refer to.
include $(wildcard apps/*/app.mk)
$(foreach a,$(APP_NAMES),$(eval $(call app_rule,$(a))))

# ---------------------------------------------------------------------------
# Targets
.PHONY: all test check-banned check-layers demo bench fuzz fuzz-build deps clean help

all: $(BINS) $(APP_PLUGINS) $(APP_EXECS) $(APP_MANIFESTS) $(CTL_PLUGINS) $(TEST_TOOLS)

deps:
	@scripts/install-deps

# `make test`: install what is missing, build, run every test. T=<pattern>
# runs only the tests whose name contains it.
test: deps
	@$(MAKE) --no-print-directory test-build
	@BUILD=$(BUILD) tests/run $(T)

.PHONY: test-build
test-build: all $(TESTS) check-banned check-layers

check-banned:
	@scripts/check-banned

# The layer rules (scripts/check-layers): #include edges in the sources,
# symbol edges in the built objects, what the binaries link and load.
check-layers: $(BINS) $(LIBCOFFER)
	@scripts/check-layers --build $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) demo/run.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_PROGS)
	@BUILD=$(BUILD) bench/run $(B)

fuzz-build: $(FUZZERS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(F)

clean:
	rm -rf build build-san build-tsan build-fuzz

help:
	@echo "make             build binaries, apps and plugins into $(BUILD)/"
	@echo "make test        install missing packages, build, run all tests (T=pattern)"
	@echo "make SANITIZE=address,undefined test   the same under ASan+UBSan (build-san/)"
	@echo "make SANITIZE=thread test-build        a ThreadSanitizer build (build-tsan/; doc/DEVELOPING.md)"
	@echo "make demo        install missing packages, build, run the demo"
	@echo "make bench       run the benchmarks (B=pattern); results go to BENCHMARKS.md by hand"
	@echo "make check-layers  check the layer rules (includes, symbols, links)"
	@echo "make fuzz        build the libFuzzer targets and run each for FUZZ_SECONDS (F=pattern)"
	@echo "make DEVELOPER=0 build without -Werror"

-include $(shell find $(BUILD)/obj $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
