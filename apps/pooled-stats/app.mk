# SPDX-License-Identifier: Apache-2.0
# pooled-stats (included by the top Makefile): it needs libm, and its two
# parsers are fuzzed through the app's own entry point with every source
# of the app instrumented (tests/fuzz/fuzz_pstats_{csv,mapout}.c).
APP_LIBS_pooled-stats := -lm

PSTATS_FUZZ_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(wildcard apps/pooled-stats/*.c))
$(FUZZ_BUILD)/fuzz_pstats_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_pstats_%.o \
		$(PSTATS_FUZZ_OBJS) $(FUZZ_BUILD)/libcoffer.a
	$(E) "  FUZZER  $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS_ALL)

# The Hessian loop of logreg.c ran 30% slower (bench/stats.sh) whenever the
# link placed it across a 32-byte boundary; aligning its loops removes the
# dependence on where the linker puts it.
$(BUILD)/obj/apps/pooled-stats/logreg.o: ALL_CFLAGS += -falign-loops=32
