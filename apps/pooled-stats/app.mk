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
