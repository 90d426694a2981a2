// SPDX-License-Identifier: Apache-2.0
// dicom-deid: DICOM PS3.15 de-identification as a Coffer app (plugin ABI,
// include/coffer/app.h). One item is one DICOM file; its output is the
// de-identified file, or the item fails with the offset and the reason.
// The whole specification is doc/apps/dicom-deid.md.
#include <stdlib.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "deid.h"

static int
dd_init(const struct coffer_app_param *params, size_t nparams, void **state,
    char *err, size_t errlen)
{
	struct deid_config *c = malloc(sizeof(*c));
	int r;

	if (c == NULL)
		return COFFER_E_NOMEM;
	if ((r = deid_config_init(c, params, nparams, err, errlen)) != 0) {
		free(c);
		return r;
	}
	*state = c;
	return 0;
}

static int
dd_process(void *state, const struct coffer_app_item *item, const uint8_t *in,
    size_t inlen, struct coffer_app_writer *out, char *err, size_t errlen)
{
	(void)item;
	return deid_process(state, in, inlen, out, err, errlen);
}

static void
dd_fini(void *state)
{
	if (state != NULL)
		deid_config_release(state);
	free(state);
}

/* Filled from deid_param_defs by the entry point, before it returns. */
static struct coffer_app_param_decl deid_decls[DEID_NPARAMS];

static struct coffer_app dicom_deid_app = {
	.size = sizeof(struct coffer_app),
	.abi_version = COFFER_APP_ABI_VERSION,
	.name = "dicom-deid",
	.version = DEID_APP_VERSION,
	.init = dd_init,
	.process = dd_process,
	.fini = dd_fini,
	.params = deid_decls,
};

/* COFFER_APP_EXPORT's entry, which also fills the declarations from the
 * one parameter table (params.c): the worker calls it once. */
__attribute__((visibility("default"))) const struct coffer_app *coffer_app_entry_v1(void);
__attribute__((visibility("default"))) const struct coffer_app *
coffer_app_entry_v1(void)
{
	dicom_deid_app.nparams = deid_param_decls(deid_decls);
	return &dicom_deid_app;
}
