// SPDX-License-Identifier: Apache-2.0
// `coffer attest`: verify SGX/TDX/SEV-SNP/sim evidence and print the
// claims and the verdict; get evidence from a backend; show the sim
// platform key; compute a sim measurement. Formats: doc/format/evidence.md,
// guide: doc/attestation.md.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"

#define USAGE "coffer attest verify|report|sim-key|measure ... (coffer attest --help)"
#define MAX_LIST 16
#define SIM_BANNER "INSECURE SIMULATION: no TEE protects this code or data"

static void
help(void)
{
	printf("usage: coffer attest verify FILE [--collateral PATH]... [--at TIME] [--json]\n"
	    "                     [--report-data HEX] [--policy FILE]\n"
	    "                     [--trust-sim-key FILE]... [--intel-root FILE]\n"
	    "                     [--amd-root FILE]... [--allow-missing-collateral]\n"
	    "                     [--allow-missing-crl]\n"
	    "       coffer attest report --backend sim|sgx-gramine|tsm --report-data HEX\n"
	    "                     [--out FILE] [--measure FILE]... [--sim-dir DIR]\n"
	    "                     [--sim-debug] [--sim-tcb JSON|FILE] [--device-root DIR]\n"
	    "       coffer attest sim-key [--sim-dir DIR] [--fingerprint]\n"
	    "       coffer attest measure FILE...\n\n"
	    "verify   check an SGX/TDX quote, an SEV-SNP report, sim evidence or a\n"
	    "         Coffer evidence envelope (raw, hex or JSON; found by content)\n"
	    "         and print its claims and the verdict. Exit 0 if accepted,\n"
	    "         4 on a bad signature, 7 if rejected for another reason.\n"
	    "  --collateral PATH   a file or directory of TCB Info, QE Identity,\n"
	    "                      CRLs and certificates (PCS, PCCS or dcap-qvl form;\n"
	    "                      AMD VCEK/VLEK); repeatable\n"
	    "  --at TIME           verify as of TIME (RFC 3339 or @unix); default now\n"
	    "  --report-data HEX   require these 64 bytes (128 hex digits)\n"
	    "  --policy FILE       apply this verification policy (JSON,\n"
	    "                      doc/format/evidence.md section 10): debug, TCB\n"
	    "                      status, minimums, VMPL, SMT, TDX attributes and sim\n"
	    "                      keys become refusals; it also says what may be\n"
	    "                      missing (not with --allow-* or --trust-sim-key)\n"
	    "  --trust-sim-key F   trust this sim platform public key (PEM)\n"
	    "  --intel-root F      trust this Intel root instead of the pinned one\n"
	    "  --amd-root F        trust this AMD ARK (+ASK) instead of the pinned ones\n"
	    "  --allow-missing-collateral   no TCB Info/QE Identity is a note, the\n"
	    "                      TCB status stays NotEvaluated\n"
	    "  --allow-missing-crl          a certificate without a CRL is a note\n"
	    "  --json              print the claims as JSON\n\n"
	    "report   get evidence for 64 bytes of report data from a backend and\n"
	    "         write it as an evidence envelope (stdout, or --out FILE)\n"
	    "  --backend NAME      sim (INSECURE SIMULATION, any machine),\n"
	    "                      sgx-gramine (/dev/attestation), tsm (configfs-tsm)\n"
	    "  --measure FILE      sim: measure these files (default: this program)\n"
	    "  --sim-dir DIR       sim: platform key directory (default\n"
	    "                      $COFFER_SIM_DIR or ~/.local/share/coffer)\n"
	    "  --sim-debug         sim: simulate a debug TEE\n"
	    "  --sim-tcb JSON|FILE sim: the platform values to simulate (TCB status,\n"
	    "                      evaluation number, SNP TCB, VMPL, SMT, migration\n"
	    "                      agent, TDX attributes; doc/format/evidence.md 8.4)\n"
	    "  --device-root DIR   sgx-gramine/tsm: the device directory\n\n"
	    "sim-key  print this host's sim platform public key (made on first use)\n"
	    "  --fingerprint       print its SHA-256 fingerprint instead, as a\n"
	    "                      policy's sim_platform_keys names it\n"
	    "measure  print the sim measurement of FILE... (executable first)\n");
}

struct vopts {
	const char *collateral[MAX_LIST], *sim_keys[MAX_LIST], *amd_roots[MAX_LIST];
	size_t n_coll, n_sim, n_amd;
	const char *intel_root, *report_data, *at, *out, *backend, *measure[MAX_LIST];
	size_t n_measure;
	const char *sim_dir, *device_root, *policy, *sim_tcb;
	int json, sim_debug, fingerprint;
	unsigned flags;
};

enum {
	O_COLL = 256, O_AT, O_JSON, O_RD, O_SIMKEY, O_INTEL, O_AMD, O_ANOCOLL,
	O_ANOCRL, O_BACKEND, O_OUT, O_MEASURE, O_SIMDIR, O_DEVROOT, O_POLICY,
	O_SIMDEBUG, O_SIMTCB, O_FINGERPRINT,
};

static int
push(const char **list, size_t *n, const char *v, const char *cmd, const char *opt)
{
	if (*n == MAX_LIST)
		return cli_usage(cmd, USAGE, "at most %d %s options", MAX_LIST, opt);
	list[(*n)++] = v;
	return -1;
}

/* One table for the options of all the verbs. */
const struct option cli_attest_options[] = {
	{ "collateral", required_argument, NULL, O_COLL },
	{ "at", required_argument, NULL, O_AT },
	{ "json", no_argument, NULL, O_JSON },
	{ "report-data", required_argument, NULL, O_RD },
	{ "trust-sim-key", required_argument, NULL, O_SIMKEY },
	{ "intel-root", required_argument, NULL, O_INTEL },
	{ "amd-root", required_argument, NULL, O_AMD },
	{ "allow-missing-collateral", no_argument, NULL, O_ANOCOLL },
	{ "allow-missing-crl", no_argument, NULL, O_ANOCRL },
	{ "backend", required_argument, NULL, O_BACKEND },
	{ "out", required_argument, NULL, O_OUT },
	{ "measure", required_argument, NULL, O_MEASURE },
	{ "sim-dir", required_argument, NULL, O_SIMDIR },
	{ "device-root", required_argument, NULL, O_DEVROOT },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "sim-debug", no_argument, NULL, O_SIMDEBUG },
	{ "sim-tcb", required_argument, NULL, O_SIMTCB },
	{ "fingerprint", no_argument, NULL, O_FINGERPRINT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on, else an exit code. */
static int
parse(const char *cmd, int argc, char **argv, struct vopts *o)
{
	int c, r;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_attest_options, NULL)) != -1) {
		r = -1;
		switch (c) {
		case O_COLL: r = push(o->collateral, &o->n_coll, optarg, cmd, "--collateral"); break;
		case O_AT: o->at = optarg; break;
		case O_JSON: o->json = 1; break;
		case O_RD: o->report_data = optarg; break;
		case O_SIMKEY: r = push(o->sim_keys, &o->n_sim, optarg, cmd, "--trust-sim-key"); break;
		case O_INTEL: o->intel_root = optarg; break;
		case O_AMD: r = push(o->amd_roots, &o->n_amd, optarg, cmd, "--amd-root"); break;
		case O_ANOCOLL: o->flags |= COFFER_TEE_ALLOW_NO_COLLATERAL; break;
		case O_ANOCRL: o->flags |= COFFER_TEE_ALLOW_NO_CRL; break;
		case O_BACKEND: o->backend = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_MEASURE: r = push(o->measure, &o->n_measure, optarg, cmd, "--measure"); break;
		case O_SIMDIR: o->sim_dir = optarg; break;
		case O_DEVROOT: o->device_root = optarg; break;
		case O_POLICY: o->policy = optarg; break;
		case O_SIMDEBUG: o->sim_debug = 1; break;
		case O_SIMTCB: o->sim_tcb = optarg; break;
		case O_FINGERPRINT: o->fingerprint = 1; break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail(cmd, USAGE, cli_attest_options, c, argv);
		}
		if (r >= 0)
			return r;
	}
	return -1;
}

static int
parse_report_data(const char *cmd, const char *hex, uint8_t rd[64])
{
	size_t got = 0;

	memset(rd, 0, 64);
	if (strlen(hex) > 128 || strlen(hex) % 2 != 0 ||
	    coffer_hex_decode(hex, strlen(hex), rd, 64, &got) != 0)
		return cli_usage(cmd, USAGE, "--report-data: up to 128 hex digits (64 "
		    "bytes; shorter values are padded with zero bytes)");
	return -1;
}

static void
hexline(const char *name, const uint8_t *p, size_t n)
{
	char buf[257];

	coffer_hex_encode(p, n, buf);
	printf("  %-18s %s\n", name, buf);
}

static void
print_claims(const struct coffer_tee_claims *c)
{
	int sim = c->tee == COFFER_TEE_SIM;

	if (sim)
		printf("*** %s ***\n", SIM_BANNER);
	printf("verdict: %s\n", c->verdict == COFFER_TEE_OK ? "OK" : "REJECTED");
	printf("tee: %s%s, format version %u%s%s\n", coffer_tee_type_name(c->tee),
	    sim ? " (INSECURE SIMULATION)" : "", c->format_version,
	    c->backend[0] ? ", backend " : "", c->backend);
	printf("debug: %s\n", c->debug ? "yes" : "no");
	if (c->tee == COFFER_TEE_SGX || c->tee == COFFER_TEE_TDX)
		printf("tcb status: %s\n", coffer_tee_tcb_status_name(c->tcb_status));
	if (c->n_advisory_ids > 0) {
		printf("advisories:");
		for (size_t i = 0; i < c->n_advisory_ids; i++)
			printf(" %s", c->advisory_ids[i]);
		printf("\n");
	}
	printf("claims:\n");
	hexline("report_data", c->report_data, 64);
	switch (c->tee) {
	case COFFER_TEE_SGX:
		hexline("mrenclave", c->sgx.mrenclave, 32);
		hexline("mrsigner", c->sgx.mrsigner, 32);
		printf("  %-18s %u\n  %-18s %u\n", "isv_prod_id", c->sgx.isv_prod_id,
		    "isv_svn", c->sgx.isv_svn);
		hexline("attributes", c->sgx.attributes, 16);
		break;
	case COFFER_TEE_TDX:
		hexline("mrtd", c->tdx.mrtd, 48);
		for (int i = 0; i < 4; i++) {
			char n[8];

			snprintf(n, sizeof(n), "rtmr%d", i);
			hexline(n, c->tdx.rtmr[i], 48);
		}
		hexline("mrseam", c->tdx.mrseam, 48);
		hexline("mr_config_id", c->tdx.mr_config_id, 48);
		hexline("mr_owner", c->tdx.mr_owner, 48);
		hexline("tee_tcb_svn", c->tdx.tee_tcb_svn, 16);
		hexline("td_attributes", c->tdx.td_attributes, 8);
		break;
	case COFFER_TEE_SEV_SNP:
		hexline("measurement", c->snp.measurement, 48);
		hexline("host_data", c->snp.host_data, 32);
		hexline("chip_id", c->snp.chip_id, 64);
		printf("  %-18s 0x%llx (debug %s, smt %s, migrate_ma %s)\n", "policy",
		    (unsigned long long)c->snp.policy, c->snp.policy_debug ? "yes" : "no",
		    c->snp.policy_smt ? "yes" : "no", c->snp.policy_migrate_ma ? "yes" : "no");
		printf("  %-18s %u\n", "vmpl", c->snp.vmpl);
		printf("  %-18s bootloader %u, tee %u, snp %u, microcode %u\n",
		    "reported_tcb", c->snp.tcb_bootloader, c->snp.tcb_tee, c->snp.tcb_snp,
		    c->snp.tcb_microcode);
		printf("  %-18s %s, signed by %s\n", "product", c->snp.product[0] ?
		    c->snp.product : "?", c->snp.signing_key == 1 ? "VLEK" : "VCEK");
		break;
	case COFFER_TEE_SIM:
		hexline("measurement", c->sim.measurement, 48);
		hexline("platform_key", c->sim.platform_key_sha256, 32);
		printf("  simulated (INSECURE SIMULATION, vouched for by nothing):\n");
		printf("  %-18s %s, evaluation data number %u\n", "tcb status",
		    coffer_tee_tcb_status_name(c->tcb_status), c->sim.tcb_eval_data_number);
		printf("  %-18s bootloader %u, tee %u, snp %u, microcode %u, fmc %u\n",
		    "snp tcb", c->sim.tcb_bootloader, c->sim.tcb_tee, c->sim.tcb_snp,
		    c->sim.tcb_microcode, c->sim.tcb_fmc);
		printf("  %-18s %u (smt %s, migration agent %s)\n", "vmpl", c->sim.vmpl,
		    c->sim.smt ? "yes" : "no", c->sim.migration_agent ? "yes" : "no");
		hexline("td_attributes", c->sim.td_attributes, 8);
		break;
	default:
		break;
	}
	if (c->tee == COFFER_TEE_SGX || c->tee == COFFER_TEE_TDX) {
		hexline("fmspc", c->intel.fmspc, 6);
		printf("  %-18s pcesvn %u, qe isvsvn %u\n", "platform", c->intel.pcesvn,
		    c->intel.qe_isv_svn);
		hexline("cpu_svn", c->intel.cpu_svn, 16);
	}
	if (c->n_reasons > 0) {
		printf("reasons:\n");
		for (size_t i = 0; i < c->n_reasons; i++)
			printf("  [%s] %s: %s\n", c->reasons[i].fatal ? "reject" : "note",
			    c->reasons[i].code, c->reasons[i].text);
	}
}

static int
load_file(const char *path, struct coffer_buf *b)
{
	coffer_buf_reset(b);
	return coffer_file_read(path, (size_t)4 << 20, b);
}

/* What a policy accepts that an owner must not miss, on stderr. */
static void
print_risks(const struct coffer_tee_policy *p)
{
	unsigned risks = coffer_tee_policy_risks(p);

	if (risks & COFFER_TEE_RISK_SIM)
		fprintf(stderr, "coffer attest verify: policy: %s: it accepts sim "
		    "evidence from %zu platform key(s)\n", SIM_BANNER, p->n_sim_keys);
	if (risks & COFFER_TEE_RISK_DEBUG)
		fprintf(stderr, "coffer attest verify: policy: INSECURE: it accepts "
		    "debug TEEs, whose memory the host can read and change\n");
	if (risks & COFFER_TEE_RISK_NO_COLLATERAL)
		fprintf(stderr, "coffer attest verify: policy: it accepts Intel "
		    "evidence whose TCB status could not be evaluated\n");
	if (risks & COFFER_TEE_RISK_NO_CRL)
		fprintf(stderr, "coffer attest verify: policy: it accepts "
		    "certificates whose revocation could not be checked\n");
}

static int
attest_verify(int argc, char **argv)
{
	struct vopts o;
	struct coffer_tee_anchors *anchors = NULL;
	struct coffer_tee_collateral *coll = NULL;
	struct coffer_tee_claims *claims = NULL;
	struct coffer_tee_verify_opts vo;
	struct coffer_tee_policy pol;
	struct coffer_buf b = COFFER_BUF_INIT((size_t)4 << 20);
	uint8_t rd[64];
	int64_t at;
	char *json = NULL, why[512] = "";
	int r;

	if ((r = parse("attest verify", argc, argv, &o)) >= 0)
		return r;
	if (argc - optind != 1)
		return cli_usage("attest verify", USAGE, "expected one FILE");
	if (o.backend || o.out || o.n_measure || o.sim_dir || o.device_root ||
	    o.sim_debug || o.sim_tcb || o.fingerprint)
		return cli_usage("attest verify", USAGE, "--backend, --out, --measure, "
		    "--sim-dir, --sim-debug, --sim-tcb, --device-root and --fingerprint "
		    "are not options of 'attest verify'");
	if (o.policy != NULL && (o.flags != 0 || o.n_sim > 0))
		return cli_usage("attest verify", USAGE, "with --policy, the policy says "
		    "what may be missing and which sim keys it accepts: no "
		    "--allow-missing-* or --trust-sim-key");
	memset(&vo, 0, sizeof(vo));
	vo.flags = o.flags;
	if (o.policy != NULL) {
		if ((r = load_file(o.policy, &b)) != 0 ||
		    (r = coffer_tee_policy_parse((const char *)b.data, b.len, &pol)) != 0) {
			r = coffer_errctx(r, "%s", o.policy);
			goto fail;
		}
		vo.policy = &pol;
		print_risks(&pol);
	}
	if (o.report_data != NULL) {
		if ((r = parse_report_data("attest verify", o.report_data, rd)) >= 0)
			return r;
		vo.expected_report_data = rd;
	}
	if (o.at != NULL) {
		if (coffer_time_parse(o.at, &at) != 0)
			return cli_usage("attest verify", USAGE, "--at: not an RFC 3339 "
			    "time or @unix-seconds: %s", o.at);
	} else {
		at = coffer_tee_now();
	}
	if (o.intel_root != NULL || o.n_amd > 0) {
		if ((r = coffer_tee_anchors_new_default(&anchors)) != 0)
			goto fail;
		if (o.intel_root != NULL && ((r = load_file(o.intel_root, &b)) != 0 ||
		    (r = coffer_tee_anchors_set_intel_root(anchors, b.data, b.len)) != 0))
			goto fail;
		/* --amd-root replaces the pinned AMD roots. */
		if (o.n_amd > 0)
			coffer_tee_anchors_clear_amd(anchors);
		for (size_t i = 0; i < o.n_amd; i++)
			if ((r = load_file(o.amd_roots[i], &b)) != 0 ||
			    (r = coffer_tee_anchors_add_amd(anchors, b.data, b.len)) != 0) {
				r = coffer_errctx(r, "%s", o.amd_roots[i]);
				goto fail;
			}
	} else if ((r = coffer_tee_anchors_new_default(&anchors)) != 0) {
		goto fail;
	}
	for (size_t i = 0; i < o.n_sim; i++)
		if ((r = load_file(o.sim_keys[i], &b)) != 0 ||
		    (r = coffer_tee_anchors_add_sim_key(anchors, (const char *)b.data,
		    b.len)) != 0) {
			r = coffer_errctx(r, "%s", o.sim_keys[i]);
			goto fail;
		}
	if (o.n_coll > 0) {
		if ((r = coffer_tee_collateral_new(anchors, &coll)) != 0)
			goto fail;
		for (size_t i = 0; i < o.n_coll; i++)
			if ((r = coffer_tee_collateral_add_path(coll, o.collateral[i])) != 0)
				goto fail;
	}
	if ((r = load_file(argv[optind], &b)) != 0) {
		r = coffer_errctx(r, "%s", argv[optind]);
		goto fail;
	}
	r = coffer_tee_verify(b.data, b.len, anchors, coll, at, &vo, &claims);
	if (claims == NULL)
		goto fail;
	snprintf(why, sizeof(why), "%s", coffer_errdetail());
	if (o.json) {
		int jr = coffer_tee_claims_json(claims, &json);

		if (jr != 0) {
			r = jr;
			goto fail;
		}
		printf("%s\n", json);
	} else {
		print_claims(claims);
	}
	fflush(stdout);
	free(json);
	coffer_tee_claims_free(claims);
	coffer_tee_collateral_free(coll);
	coffer_tee_anchors_free(anchors);
	coffer_buf_release(&b);
	if (r != 0) {
		fprintf(stderr, "coffer attest verify: rejected: %s\n", why);
		return cli_exit_code(r);
	}
	return CLI_OK;
fail:
	coffer_tee_collateral_free(coll);
	coffer_tee_anchors_free(anchors);
	coffer_buf_release(&b);
	return cli_fail(r, "attest verify");
}

/* --sim-tcb: inline JSON (it starts with '{') or a file holding it. */
static int
sim_values(const char *arg, struct coffer_tee_sim_values *sv)
{
	struct coffer_buf b = COFFER_BUF_INIT(16384);
	int r;

	if (arg[0] == '{')
		r = coffer_tee_sim_values_parse(arg, strlen(arg), sv);
	else if ((r = coffer_file_read(arg, 16384, &b)) == 0)
		r = coffer_tee_sim_values_parse((const char *)b.data, b.len, sv);
	coffer_buf_release(&b);
	return r != 0 ? coffer_errctx(r, "--sim-tcb") : 0;
}

static int
attest_report(int argc, char **argv)
{
	struct vopts o;
	struct coffer_tee_backend_opts bo;
	struct coffer_tee_sim_values sv;
	enum coffer_tee_backend be;
	uint8_t rd[64], *ev = NULL;
	size_t evlen = 0;
	int r;

	if ((r = parse("attest report", argc, argv, &o)) >= 0)
		return r;
	if (argc - optind != 0)
		return cli_usage("attest report", USAGE, "unexpected argument '%s'",
		    argv[optind]);
	if (o.backend == NULL || o.report_data == NULL)
		return cli_usage("attest report", USAGE, "--backend and --report-data "
		    "are required");
	if (o.n_coll || o.n_sim || o.at || o.json || o.intel_root || o.n_amd || o.flags ||
	    o.policy || o.fingerprint)
		return cli_usage("attest report", USAGE, "that option belongs to "
		    "'attest verify' or 'attest sim-key'");
	if (coffer_tee_backend_parse(o.backend, &be) != 0)
		return cli_usage("attest report", USAGE, "%s", coffer_errdetail());
	if (be != COFFER_TEE_BACKEND_SIM && (o.sim_debug || o.sim_tcb || o.sim_dir ||
	    o.n_measure))
		return cli_usage("attest report", USAGE, "--sim-* and --measure are "
		    "options of --backend sim");
	if ((r = parse_report_data("attest report", o.report_data, rd)) >= 0)
		return r;
	coffer_tee_sim_values_init(&sv);
	if (o.sim_tcb != NULL && (r = sim_values(o.sim_tcb, &sv)) != 0)
		return cli_fail(r, "attest report");
	if (o.sim_debug)
		sv.debug = 1;
	memset(&bo, 0, sizeof(bo));
	bo.sim_values = &sv;
	bo.sim_dir = o.sim_dir;
	bo.measure = o.measure;
	bo.n_measure = o.n_measure;
	bo.device_root = o.device_root;
	if ((r = coffer_tee_evidence_get(be, rd, &bo, &ev, &evlen)) != 0)
		return cli_fail(r, "attest report");
	if (be == COFFER_TEE_BACKEND_SIM) {
		fprintf(stderr, "coffer attest report: %s: this evidence proves nothing "
		    "about isolation%s\n", SIM_BANNER, o.sim_debug || o.sim_tcb ?
		    "; its debug and TCB values are simulated" : "");
	}
	if (o.out != NULL)
		r = coffer_file_write_atomic(o.out, ev, evlen, 0644, 0);
	else
		r = coffer_write_all(STDOUT_FILENO, ev, evlen);
	free(ev);
	return r == 0 ? CLI_OK : cli_fail(r, "attest report");
}

static int
attest_sim_key(int argc, char **argv)
{
	struct vopts o;
	char *pem = NULL, hex[65];
	uint8_t fp[32];
	int r;

	if ((r = parse("attest sim-key", argc, argv, &o)) >= 0)
		return r;
	if (argc - optind != 0)
		return cli_usage("attest sim-key", USAGE, "unexpected argument '%s'",
		    argv[optind]);
	if (o.backend || o.report_data || o.out || o.n_measure || o.device_root ||
	    o.sim_debug || o.sim_tcb || o.policy || o.n_coll || o.n_sim || o.at ||
	    o.json || o.intel_root || o.n_amd || o.flags)
		return cli_usage("attest sim-key", USAGE, "only --sim-dir and "
		    "--fingerprint go with 'attest sim-key'");
	if ((r = coffer_tee_sim_public_key(o.sim_dir, &pem)) != 0)
		return cli_fail(r, "attest sim-key");
	if ((r = coffer_tee_sim_key_fingerprint(pem, strlen(pem), fp)) != 0) {
		free(pem);
		return cli_fail(r, "attest sim-key");
	}
	coffer_hex_encode(fp, 32, hex);
	fprintf(stderr, "coffer attest sim-key: %s: a verifier that trusts this key "
	    "(fingerprint %s) accepts evidence from this host's simulation only\n",
	    SIM_BANNER, hex);
	if (o.fingerprint)
		printf("%s\n", hex);
	else
		fputs(pem, stdout);
	free(pem);
	return CLI_OK;
}

static int
attest_measure(int argc, char **argv)
{
	struct vopts o;
	uint8_t m[48];
	char hex[97];
	int r;

	if ((r = parse("attest measure", argc, argv, &o)) >= 0)
		return r;
	if (argc - optind < 1)
		return cli_usage("attest measure", USAGE, "expected FILE...");
	if ((r = coffer_tee_sim_measure((const char *const *)argv + optind,
	    (size_t)(argc - optind), m)) != 0)
		return cli_fail(r, "attest measure");
	coffer_hex_encode(m, 48, hex);
	printf("%s\n", hex);
	return CLI_OK;
}

const struct cli_verb cli_attest_verbs[] = {
	{ "verify", attest_verify },
	{ "report", attest_report },
	{ "sim-key", attest_sim_key },
	{ "measure", attest_measure },
	{ NULL, NULL },
};

int
cmd_attest(int argc, char **argv)
{
	return cli_dispatch("attest", cli_attest_verbs, USAGE, help, argc, argv);
}
