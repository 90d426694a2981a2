// SPDX-License-Identifier: Apache-2.0
// coffer_tee_evidence_get: ask a backend (sim, sgx-gramine, tsm) for
// evidence binding 64 bytes of report data, check that the device bound
// exactly those bytes, and wrap the result in an evidence envelope.
#include <string.h>

#include <openssl/x509.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "tee/tee_int.h"

#define ENVELOPE_MAX ((size_t)4 << 20)

const char *
coffer_tee_backend_name(enum coffer_tee_backend b)
{
	switch (b) {
	case COFFER_TEE_BACKEND_SIM: return "sim";
	case COFFER_TEE_BACKEND_SGX_GRAMINE: return "sgx-gramine";
	case COFFER_TEE_BACKEND_TSM: return "tsm";
	default: return "unknown";
	}
}

int
coffer_tee_backend_parse(const char *name, enum coffer_tee_backend *out)
{
	if (strcmp(name, "sim") == 0)
		*out = COFFER_TEE_BACKEND_SIM;
	else if (strcmp(name, "sgx-gramine") == 0)
		*out = COFFER_TEE_BACKEND_SGX_GRAMINE;
	else if (strcmp(name, "tsm") == 0)
		*out = COFFER_TEE_BACKEND_TSM;
	else
		return coffer_errf(COFFER_E_INVAL, "unknown TEE backend \"%s\" (sim, "
		    "sgx-gramine, tsm)", name);
	return 0;
}

/*
 * Where the device put the report data in what it returned. A device (or
 * a confused driver) that answers with evidence for other report data is
 * caught here rather than by a distant verifier.
 */
static int
check_bound(const char *tee, const uint8_t *ev, size_t len, const uint8_t rd[64])
{
	size_t off;

	if (strcmp(tee, "sev-snp") == 0) {
		off = 0x50;
	} else if (strcmp(tee, "sim") == 0) {
		off = 0x48;
	} else {
		uint16_t version;

		if (len < 48)
			return coffer_errf(COFFER_E_PROTO, "the device returned %zu bytes, "
			    "not a quote", len);
		version = coffer_load_u16le(ev);
		if (strcmp(tee, "sgx") == 0)
			off = 48 + (version == 5 ? 6 : 0) + 320;
		else
			off = 48 + (version == 5 ? 6 : 0) + 520;
	}
	if (len < off + 64)
		return coffer_errf(COFFER_E_PROTO, "the device returned %zu bytes, too "
		    "short for %s evidence", len, tee);
	if (memcmp(ev + off, rd, 64) != 0)
		return coffer_errf(COFFER_E_PROTO, "the device returned %s evidence for "
		    "other report data than was asked for", tee);
	return 0;
}

int
coffer_tee_evidence_get(enum coffer_tee_backend backend,
    const uint8_t report_data[COFFER_TEE_REPORT_DATA_LEN],
    const struct coffer_tee_backend_opts *opts, uint8_t **out, size_t *outlen)
{
	struct coffer_buf ev = COFFER_BUF_INIT(ENVELOPE_MAX),
	    aux = COFFER_BUF_INIT(ENVELOPE_MAX), env = COFFER_BUF_INIT(ENVELOPE_MAX);
	STACK_OF(X509) *certs = NULL;
	const char *tee = NULL;
	char provider[32] = "";
	int r;

	if (report_data == NULL || out == NULL || outlen == NULL)
		return coffer_errf(COFFER_E_INVAL, "evidence: NULL argument");
	switch (backend) {
	case COFFER_TEE_BACKEND_SIM: {
		static const char *const self[] = { "/proc/self/exe" };
		uint8_t m[48];

		const char *dir = opts != NULL ? opts->sim_dir : NULL;

		if (opts != NULL && opts->n_measure > 0)
			r = tee_sim_measure_cached(dir, opts->measure, opts->n_measure, m);
		else
			r = tee_sim_measure_cached(dir, self, 1, m);
		if (r != 0 || (r = tee_sim_make(dir, m,
		    report_data, opts != NULL ? opts->sim_values : NULL, &ev)) != 0)
			goto out;
		tee = "sim";
		/* Every process that makes sim evidence says so in its log. */
		coffer_logkv(COFFER_LOG_WARN, "INSECURE SIMULATION: sim evidence made; "
		    "no TEE protects this process", "backend", "sim", NULL);
		break;
	}
	case COFFER_TEE_BACKEND_SGX_GRAMINE:
		if ((r = tee_gramine_get(opts != NULL ? opts->device_root : NULL,
		    report_data, &ev)) != 0)
			goto out;
		tee = "sgx";
		if (ev.len >= 8 && coffer_load_u32le(ev.data + 4) != 0) {
			r = coffer_errf(COFFER_E_PROTO, "Gramine returned a quote whose TEE "
			    "type is not SGX");
			goto out;
		}
		break;
	case COFFER_TEE_BACKEND_TSM:
		if ((r = tee_tsm_get(opts, report_data, &ev, &aux, provider,
		    sizeof(provider))) != 0)
			goto out;
		if (strcmp(provider, "tdx_guest") == 0) {
			tee = "tdx";
		} else if (strcmp(provider, "sev_guest") == 0) {
			tee = "sev-snp";
			if ((certs = sk_X509_new_null()) == NULL) {
				r = COFFER_E_NOMEM;
				goto out;
			}
			if (aux.len > 0 && (r = tee_snp_cert_table_parse(aux.data, aux.len,
			    certs)) != 0)
				goto out;
		} else {
			r = coffer_errf(COFFER_E_UNSUPPORTED, "configfs-tsm provider \"%s\" "
			    "is not supported (tdx_guest, sev_guest)", provider);
			goto out;
		}
		break;
	default:
		r = coffer_errf(COFFER_E_INVAL, "unknown TEE backend %d", (int)backend);
		goto out;
	}
	if ((r = check_bound(tee, ev.data, ev.len, report_data)) != 0 ||
	    (r = tee_envelope_write(tee, coffer_tee_backend_name(backend), provider,
	    ev.data, ev.len, certs, &env)) != 0 ||
	    (r = coffer_buf_detach(&env, out, outlen)) != 0)
		goto out;
out:
	sk_X509_pop_free(certs, X509_free);
	coffer_buf_release(&ev);
	coffer_buf_release(&aux);
	coffer_buf_release(&env);
	return r;
}
