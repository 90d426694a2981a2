// SPDX-License-Identifier: Apache-2.0
// The sealing key of each backend (coffer/tee.h, coffer_tee_sealing_key):
// what the coordinator seals its state key to. doc/format/sealed-state.md
// section 10 says what each is bound to and when it is lost. The result
// always goes through HKDF with a label of ours, so a hardware key is
// never used directly (Gramine warns against using its keys for two
// purposes).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/sev-guest.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "crypto/ecdsa.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "lib/mem.h"
#include "tee/tee_int.h"

#define LABEL_SIM "coffer/tee/sim-sealing-key/v1"
#define LABEL_SGX "coffer/tee/sgx-sealing-key/v1"
#define LABEL_SNP "coffer/tee/snp-sealing-key/v1"

/* SEV-SNP firmware ABI, MSG_KEY_REQ: GUEST_FIELD_SELECT bits. */
#define SNP_FIELD_POLICY (1u << 0)
#define SNP_FIELD_MEASUREMENT (1u << 3)
/* MSG_KEY_RSP: status (4), reserved (28), key (32). MSG_REPORT_RSP:
 * status (4), report size (4), reserved (24), then the report, whose
 * MEASUREMENT is at 0x90. */
#define SNP_KEY_OFF 32
#define SNP_REPORT_OFF 32
#define SNP_MEASUREMENT_OFF 0x90

static int
read_exact(const char *path, uint8_t *out, size_t n)
{
	ssize_t got;
	size_t done = 0;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "%s: %s", path, strerror(errno));
	while (done < n) {
		got = read(fd, out + done, n - done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = coffer_errf(COFFER_E_PROTO, "%s: %zu of the %zu bytes expected",
			    path, done, n);
			break;
		}
		done += (size_t)got;
	}
	close(fd);
	return r;
}

/* HKDF(salt = "", ikm, info = label [|| 0x00 || ctx]) to 32 bytes. */
static int
derive(const uint8_t *ikm, size_t ikmlen, const char *label,
    const uint8_t *ctx, size_t ctxlen, uint8_t out[32])
{
	uint8_t info[64 + 1 + 48];
	size_t ll = strlen(label), n = ll;

	memcpy(info, label, ll);
	if (ctx != NULL) {
		info[n++] = 0;
		memcpy(info + n, ctx, ctxlen);
		n += ctxlen;
	}
	return coffer_hkdf_sha256(NULL, 0, ikm, ikmlen, info, n, out, 32);
}

/* INSECURE SIMULATION: the platform key's scalar and the measurement. */
static int
sealing_sim(const struct coffer_tee_backend_opts *opts,
    struct coffer_tee_sealing *s)
{
	static const char *const self[] = { "/proc/self/exe" };
	struct coffer_ecdsa_key *k = NULL;
	uint8_t d[48], point[97];
	int r;

	if (opts != NULL && opts->n_measure > 0)
		r = coffer_tee_sim_measure(opts->measure, opts->n_measure,
		    s->measurement);
	else
		r = coffer_tee_sim_measure(self, 1, s->measurement);
	if (r != 0)
		return r;
	if ((r = tee_sim_platform_key(opts != NULL ? opts->sim_dir : NULL, &k)) != 0)
		return r;
	if ((r = coffer_ecdsa_priv_raw(k, d, sizeof(d))) == 0 &&
	    (r = coffer_ecdsa_pub_raw(k, point, sizeof(point))) == 0 &&
	    (r = coffer_sha256(point, sizeof(point), s->platform)) == 0)
		r = derive(d, sizeof(d), LABEL_SIM, s->measurement, 48, s->key);
	coffer_wipe(d, sizeof(d));
	coffer_ecdsa_key_free(k);
	return r;
}

/* Gramine: /dev/attestation/keys/_sgx_mrenclave (EGETKEY, KEYPOLICY =
 * MRENCLAVE) and MRENCLAVE from my_target_info (its first 32 bytes). */
static int
sealing_sgx(const struct coffer_tee_backend_opts *opts,
    struct coffer_tee_sealing *s)
{
	const char *root = opts != NULL && opts->device_root != NULL ?
	    opts->device_root : "/dev/attestation";
	char path[4096];
	uint8_t k[16];
	int r;

	snprintf(path, sizeof(path), "%s/my_target_info", root);
	if ((r = read_exact(path, s->measurement, 32)) != 0)
		return coffer_errctx(r, "sgx-gramine: MRENCLAVE");
	snprintf(path, sizeof(path), "%s/keys/_sgx_mrenclave", root);
	if ((r = read_exact(path, k, sizeof(k))) != 0)
		return coffer_errctx(r, "sgx-gramine: sealing key");
	r = derive(k, sizeof(k), LABEL_SGX, NULL, 0, s->key);
	coffer_wipe(k, sizeof(k));
	return r;
}

static int
snp_request(int fd, unsigned long cmd, const void *req, void *resp,
    const char *what, const char *path)
{
	struct snp_guest_request_ioctl io;

	memset(&io, 0, sizeof(io));
	io.msg_version = 1;
	io.req_data = (__u64)(uintptr_t)req;
	io.resp_data = (__u64)(uintptr_t)resp;
	if (ioctl(fd, cmd, &io) != 0)
		return coffer_errf(COFFER_E_IO, "%s: %s failed: %s (firmware error "
		    "%#x, VMM error %#x)", path, what, strerror(errno), io.fw_error,
		    io.vmm_error);
	return 0;
}

/* SEV-SNP: MSG_KEY_REQ rooted in the VCEK, mixing in the guest policy and
 * the launch measurement; the measurement itself from a report. */
static int
sealing_snp(const char *path, struct coffer_tee_sealing *s)
{
	struct snp_derived_key_req kreq;
	struct snp_derived_key_resp kresp;
	struct snp_report_req rreq;
	static struct snp_report_resp rresp; /* 4000 bytes: off the stack */
	uint32_t status;
	int fd, r;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
	memset(&rreq, 0, sizeof(rreq));
	memset(&kreq, 0, sizeof(kreq));
	kreq.root_key_select = 0; /* VCEK */
	kreq.guest_field_select = SNP_FIELD_POLICY | SNP_FIELD_MEASUREMENT;
	if ((r = snp_request(fd, SNP_GET_REPORT, &rreq, &rresp, "SNP_GET_REPORT",
	    path)) != 0 ||
	    (r = snp_request(fd, SNP_GET_DERIVED_KEY, &kreq, &kresp,
	    "SNP_GET_DERIVED_KEY", path)) != 0)
		goto out;
	memcpy(&status, kresp.data, sizeof(status));
	if (status != 0) {
		r = coffer_errf(COFFER_E_IO, "%s: the firmware refused the key "
		    "request (status %#x)", path, status);
		goto out;
	}
	memcpy(s->measurement, rresp.data + SNP_REPORT_OFF + SNP_MEASUREMENT_OFF, 48);
	r = derive(kresp.data + SNP_KEY_OFF, 32, LABEL_SNP, NULL, 0, s->key);
out:
	coffer_wipe(&kresp, sizeof(kresp));
	close(fd);
	return r;
}

/* tsm: SEV-SNP has a derived key; TDX has none. */
static int
sealing_tsm(const struct coffer_tee_backend_opts *opts,
    struct coffer_tee_sealing *s)
{
	const char *dir = opts != NULL && opts->device_root != NULL ?
	    opts->device_root : "/dev";
	char snp[4096], tdx[4096];
	struct stat st;

	snprintf(snp, sizeof(snp), "%s/sev-guest", dir);
	snprintf(tdx, sizeof(tdx), "%s/tdx_guest", dir);
	if (stat(snp, &st) == 0)
		return sealing_snp(snp, s);
	if (stat(tdx, &st) == 0)
		return coffer_errf(COFFER_E_UNSUPPORTED, "tsm on TDX: a TD has no "
		    "sealing key, so the state key cannot be sealed here; start with "
		    "--recover, and k of n owners give it back at every start");
	return coffer_errf(COFFER_E_NOTFOUND, "tsm: neither %s nor %s exists: "
	    "not in an SEV-SNP or TDX guest", snp, tdx);
}

int
coffer_tee_sealing_key(enum coffer_tee_backend backend,
    const struct coffer_tee_backend_opts *opts, struct coffer_tee_sealing *out)
{
	struct coffer_tee_sealing s;
	int r;

	memset(&s, 0, sizeof(s));
	s.backend = backend;
	switch (backend) {
	case COFFER_TEE_BACKEND_SIM: r = sealing_sim(opts, &s); break;
	case COFFER_TEE_BACKEND_SGX_GRAMINE: r = sealing_sgx(opts, &s); break;
	case COFFER_TEE_BACKEND_TSM: r = sealing_tsm(opts, &s); break;
	default:
		r = coffer_errf(COFFER_E_INVAL, "sealing key: backend %d", (int)backend);
	}
	if (r == 0)
		*out = s;
	coffer_tee_sealing_wipe(&s);
	return r;
}

void
coffer_tee_sealing_wipe(struct coffer_tee_sealing *s)
{
	coffer_wipe(s->key, sizeof(s->key));
}
