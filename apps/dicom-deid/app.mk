# SPDX-License-Identifier: Apache-2.0
# dicom-deid (included by the top Makefile). Its tables are generated at
# build time from the copies of the standard in apps/dicom-deid/standard/
# by gen/gen_tables.c, a host program on jansson (doc/apps/dicom-deid.md
# section 2). It links zlib (deflated transfer syntax) and libcrypto
# (HMAC-SHA-256 for the keyed replacements).
DICOM_STD := apps/dicom-deid/standard
DICOM_TABLES := $(BUILD)/gen/apps/dicom-deid/tables.c
APP_GEN_dicom-deid := $(DICOM_TABLES)
APP_LIBS_dicom-deid := $(shell pkg-config --libs zlib libcrypto 2>/dev/null)

$(BUILD)/gen/gen_tables: apps/dicom-deid/gen/gen_tables.c
	@mkdir -p $(@D)
	$(E) "  HOSTCC  $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O1 $(WARN) $(PKG_CFLAGS) -o $@ $< \
		$(shell pkg-config --libs jansson 2>/dev/null)
$(DICOM_TABLES): $(BUILD)/gen/gen_tables $(DICOM_STD)/attributes.json \
		$(DICOM_STD)/table_E.1-1_2026c.tsv $(DICOM_STD)/table_E.1-1a_2026c.tsv
	@mkdir -p $(@D)
	$(E) "  GEN     $@"
	$(Q)$< $(DICOM_STD)/attributes.json $(DICOM_STD)/table_E.1-1_2026c.tsv \
		$(DICOM_STD)/table_E.1-1a_2026c.tsv $@.tmp && mv $@.tmp $@

# Fuzz targets: the parser (fuzz_dicom_parse) and the whole app with its
# writer (fuzz_dicom_write), built with the app's sources instrumented.
DICOM_FUZZ_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(filter-out \
	apps/dicom-deid/plugin.c,$(wildcard apps/dicom-deid/*.c))) \
	$(FUZZ_BUILD)/obj/gen/apps/dicom-deid/tables.o
$(FUZZ_BUILD)/obj/gen/apps/dicom-deid/tables.o: $(DICOM_TABLES)
	@mkdir -p $(@D)
	$(E) "  CC-FUZZ $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Iapps/dicom-deid -c -o $@ $<
$(FUZZ_BUILD)/obj/tests/fuzz/fuzz_dicom_%.o: FUZZ_CFLAGS += -Iapps/dicom-deid
$(FUZZ_BUILD)/fuzz_dicom_parse $(FUZZ_BUILD)/fuzz_dicom_write: $(FUZZ_BUILD)/fuzz_%: \
		$(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(DICOM_FUZZ_OBJS) $(FUZZ_BUILD)/libcoffer.a
	$(E) "  FUZZER  $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(APP_LIBS_dicom-deid) $(LIBS_ALL)

# Unit tests of the parser, the writer and the profile's pieces.
$(BUILD)/obj/tests/unit/test_dicom_deid.o: ALL_CFLAGS += -Iapps/dicom-deid
$(BUILD)/tests/test_dicom_deid: $(BUILD)/obj/tests/unit/test_dicom_deid.o \
		$(call app_common_objs,dicom-deid) $(TEST_SUPPORT_OBJS) $(LIBCOFFER)
	@mkdir -p $(@D)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_CMOCKA) $(APP_LIBS_dicom-deid) $(LIBS_ALL)
