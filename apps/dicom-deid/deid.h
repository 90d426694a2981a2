/* SPDX-License-Identifier: Apache-2.0 */
/* The de-identification profile (PS3.15 Annex E) as dicom-deid applies it:
 * its configuration from job parameters (params.c), the keyed replacements
 * (keys.c), text and date cleaning (text.c) and the per-file pass
 * (deid.c). doc/apps/dicom-deid.md is the specification. */
#ifndef DICOM_DEID_DEID_H
#define DICOM_DEID_DEID_H

#include <stddef.h>
#include <stdint.h>

#include "dicom.h"

#define DEID_APP_VERSION "1.0"

struct coffer_app_param;
struct coffer_app_writer;

struct deid_keys {
	uint8_t uid[32], pseudonym[32], date[32];
};

/* One entry of the safe private allow-list: creator, group, element byte
 * (the low byte of (gggg,xxee)), any_elem for "xx". */
struct deid_safe_private {
	uint16_t group;
	uint8_t elem;
	int any_elem;
	char creator[65];
	size_t creator_len;
};

enum deid_dates { DEID_DATES_REMOVE, DEID_DATES_FULL, DEID_DATES_MODIFIED };

struct deid_config {
	int opt[DD_NCOLS];          /* option columns in use (DD_COL_*) */
	enum deid_dates dates;
	int strict;                 /* conformance=strict */
	int accept_burned_in;
	int date_shift_max;         /* days */
	char prefix[33];            /* pseudonym prefix */
	struct dcm_limits lim;
	struct deid_safe_private *safe;
	size_t nsafe;
	struct deid_keys keys;
};

/* ---- params.c ---- */

/* The parameter declarations, one row each, in the order the docs list
 * them (a later ABI's declaration list is filled from this table). */
struct deid_param_def {
	const char *name;
	const char *type;     /* bool, enum, int, string, path, hex */
	const char *def;      /* default, "" for none */
	const char *allowed;  /* for enum and int: the values or the range */
	const char *help;
};
extern const struct deid_param_def deid_param_defs[];
extern const size_t deid_param_defs_n;
#define DEID_NPARAMS 18             /* rows of deid_param_defs */
/* The table as the app ABI's declarations (doc/format/app-abi.md
 * section 5), into out[DEID_NPARAMS - 1] (the reserved coffer.app_secret
 * is the worker's, not declared); the number written. */
struct coffer_app_param_decl;
size_t deid_param_decls(struct coffer_app_param_decl *out);

/* Fill c from the job's parameters (defaults for the rest), reading the
 * secret from coffer.app_secret or secret_file. 0, or COFFER_E_INVAL with
 * a message naming the parameter. */
int deid_config_init(struct deid_config *c, const struct coffer_app_param *p,
    size_t n, char *err, size_t errlen);
void deid_config_release(struct deid_config *c);

/* ---- keys.c ---- */
int deid_keys_derive(const uint8_t *secret, size_t n, struct deid_keys *k);
void deid_keys_wipe(struct deid_keys *k);
/* "2.25.<decimal>", at most 44 characters. */
int deid_new_uid(const struct deid_keys *k, const uint8_t *uid, size_t n, char out[65]);
/* nchars (<= 48) base32 characters keyed by purpose and value. */
int deid_pseudonym(const struct deid_keys *k, const char *purpose,
    const uint8_t *v, size_t n, size_t nchars, char *out);
/* A shift in [-max, -1] U [1, max] days for this patient key. */
int deid_date_shift(const struct deid_keys *k, const uint8_t *patient, size_t n,
    int max_days, int *days);

/* ---- text.c ---- */

/* How a Specific Character Set (0008,0005) encodes characters. */
enum text_cs { TEXT_CS_SINGLE, TEXT_CS_UTF8, TEXT_CS_GBK, TEXT_CS_ISO2022 };
enum text_cs text_charset(const uint8_t *v, uint32_t n);

struct text_ident {
	const uint8_t *p;
	uint32_t n;
};

/* Clean free text: every whole-word occurrence (ASCII case-insensitive) of
 * an identifier and every run of 5 or more digits is overwritten with 'X',
 * byte for byte, in out (n bytes). Returns 0, or 1 when a match lies in
 * multi-byte text that cannot be overwritten in place (the caller then
 * replaces the whole value). scratch: 2n bytes. */
int text_scrub(enum text_cs cs, const uint8_t *v, uint32_t n,
    const struct text_ident *ids, size_t nids, uint8_t *out, uint8_t *scratch);

/* Shift every date of a DA (YYYYMMDD, ranges, backslash-separated) or DT
 * value by days; out has room for n bytes. Returns the new length,
 * or -1 if a value is not a date (the caller then empties it). */
long text_shift_da(const uint8_t *v, uint32_t n, int days, uint8_t *out);
long text_shift_dt(const uint8_t *v, uint32_t n, int days, uint8_t *out);

/* ---- deid.c ---- */

/* De-identify one file into out. 0, or a negative coffer error with a
 * message in err ("offset N: reason" for a file that cannot be parsed). */
int deid_process(const struct deid_config *c, const uint8_t *in, size_t n,
    struct coffer_app_writer *out, char *err, size_t errlen);

#endif
