// SPDX-License-Identifier: Apache-2.0
// Kubeconfig and in-cluster configuration (kubeconfig.h). kubectl writes
// kubeconfig files as YAML; linking a YAML library into the manager for
// one small file is not worth it, so this reads the subset kubectl and
// the cluster tools (kind, k3s, cloud CLIs) write, and refuses the rest
// with the line it stopped at (any kubeconfig can be turned into JSON:
// `kubectl config view --raw --flatten -o json`).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actuator/kubeconfig.h"
#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/mem.h"

#define YAML_MAX ((size_t)1 << 20)
#define YAML_DEPTH 32
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* ------------------------------------------------------------------ */
/* The YAML subset */

struct yline {
	int indent;
	char *text;             /* content after the indentation; NUL-ended */
	int no;                 /* 1-based line number */
};

struct yparse {
	struct yline *l;
	int n, i;
};

static int
yerr(int no, const char *what)
{
	return coffer_errf(COFFER_E_FORMAT, "kubeconfig line %d: %s", no, what);
}

/* Split into lines, drop comments and blank lines, measure indentation. */
static int
split(char *text, struct yparse *p)
{
	int no = 0, cap = 0;

	for (char *line = text; line != NULL;) {
		char *nl = strchr(line, '\n'), *c;
		int ind = 0;

		if (nl != NULL)
			*nl = '\0';
		no++;
		c = line;
		while (*c == ' ') {
			c++;
			ind++;
		}
		if (*c == '\t')
			return yerr(no, "a tab in the indentation");
		/* Trailing spaces and \r. */
		for (size_t k = strlen(c); k > 0 && (c[k - 1] == ' ' ||
		    c[k - 1] == '\r'); k--)
			c[k - 1] = '\0';
		if (*c != '\0' && *c != '#' && !(no == 1 && strcmp(c, "---") == 0)) {
			if (p->n == cap) {
				struct yline *nlv;

				cap = cap ? cap * 2 : 64;
				if ((nlv = coffer_reallocarray(p->l, (size_t)cap,
				    sizeof(*nlv))) == NULL)
					return coffer_errf(COFFER_E_NOMEM, "kubeconfig");
				p->l = nlv;
			}
			p->l[p->n].indent = ind;
			p->l[p->n].text = c;
			p->l[p->n].no = no;
			p->n++;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	return 0;
}

/* A scalar: quoted, or plain up to a " #" comment (a key: up to ": " or
 * a final ':'). *s is advanced past it. Always a string (kubeconfig
 * values are strings). */
static int
scalar(char **s, int no, int key, json_t **out)
{
	char *p = *s, *o;
	struct coffer_buf b = COFFER_BUF_INIT(YAML_MAX);
	int r = 0;

	if (*p == '&' || *p == '*' || *p == '!' || *p == '|' || *p == '>' ||
	    *p == '%' || *p == '@' || *p == '`')
		return yerr(no, "anchors, aliases, tags and block scalars are not "
		    "supported (give the kubeconfig as JSON)");
	if (*p == '\'' || *p == '"') {
		char q = *p++;

		for (;;) {
			if (*p == '\0') {
				r = yerr(no, "a quoted string does not end on its line");
				goto out;
			}
			if (*p == q && q == '\'' && p[1] == '\'') {
				r = coffer_buf_put(&b, "'", 1);
				p += 2;
			} else if (*p == q) {
				p++;
				break;
			} else if (*p == '\\' && q == '"') {
				const char *esc = "\"\"\\\\//n\nt\tr\r";
				char e = p[1];
				const char *m = e != '\0' ? strchr(esc, e) : NULL;

				/* Pairs: the escape letter, then what it means. */
				if (m == NULL || (m - esc) % 2 != 0) {
					r = yerr(no, "an escape other than \\\" \\\\ \\/ \\n "
					    "\\t \\r");
					goto out;
				}
				r = coffer_buf_put(&b, m + 1, 1);
				p += 2;
			} else {
				r = coffer_buf_put(&b, p, 1);
				p++;
			}
			if (r != 0)
				goto out;
		}
		while (*p == ' ')
			p++;
		if (*p != '\0' && *p != '#' && *p != ':') {
			r = yerr(no, "text after a quoted string");
			goto out;
		}
	} else {
		char *end = p;

		while (*end != '\0' && !(*end == '#' && end > p && end[-1] == ' ') &&
		    !(key && *end == ':' && (end[1] == ' ' || end[1] == '\0')))
			end++;
		o = end;
		while (o > p && o[-1] == ' ')
			o--;
		if ((r = coffer_buf_put(&b, p, (size_t)(o - p))) != 0)
			goto out;
		p = end;
	}
	if ((*out = json_string(coffer_buf_str(&b))) == NULL)
		r = coffer_errf(COFFER_E_FORMAT, "kubeconfig line %d: not UTF-8", no);
	*s = p;
out:
	coffer_buf_release(&b);
	return r;
}

static int node(struct yparse *p, int indent, int depth, json_t **out);

/* Whether a line is "key: value" or "key:" (a plain or quoted key). */
static int
key_line(const char *t)
{
	if (*t == '\'' || *t == '"') {
		const char *e = strchr(t + 1, *t);

		return e != NULL && e[1] == ':' && (e[2] == ' ' || e[2] == '\0');
	}
	for (; *t; t++)
		if (*t == ':' && (t[1] == ' ' || t[1] == '\0'))
			return 1;
	return 0;
}

/* A value on the rest of a line: {} or [] or a scalar. */
static int
inline_value(char *s, int no, json_t **out)
{
	if (strcmp(s, "{}") == 0)
		return (*out = json_object()) != NULL ? 0 : COFFER_E_NOMEM;
	if (strcmp(s, "[]") == 0)
		return (*out = json_array()) != NULL ? 0 : COFFER_E_NOMEM;
	if (*s == '{' || *s == '[')
		return yerr(no, "flow collections are not supported (give the "
		    "kubeconfig as JSON)");
	return scalar(&s, no, 0, out);
}

/* The value of "key:" whose rest of line is empty: a node indented
 * deeper, a sequence at the key's own indentation, or null. */
static int
child(struct yparse *p, int indent, int depth, json_t **out)
{
	if (p->i < p->n && (p->l[p->i].indent > indent ||
	    (p->l[p->i].indent == indent && p->l[p->i].text[0] == '-' &&
	    (p->l[p->i].text[1] == ' ' || p->l[p->i].text[1] == '\0'))))
		return node(p, p->l[p->i].indent, depth + 1, out);
	return (*out = json_null()) != NULL ? 0 : COFFER_E_NOMEM;
}

static int
mapping(struct yparse *p, int indent, int depth, json_t **out)
{
	json_t *m = json_object(), *k = NULL, *v = NULL;
	int r = 0;

	if (m == NULL)
		return COFFER_E_NOMEM;
	while (p->i < p->n && p->l[p->i].indent == indent &&
	    p->l[p->i].text[0] != '-') {
		struct yline *ln = &p->l[p->i];
		char *s = ln->text;

		if ((r = scalar(&s, ln->no, 1, &k)) != 0)
			break;
		if (*s != ':' || (s[1] != ' ' && s[1] != '\0')) {
			r = yerr(ln->no, "expected 'key: value'");
			break;
		}
		s++;
		while (*s == ' ')
			s++;
		p->i++;
		r = *s != '\0' ? inline_value(s, ln->no, &v) :
		    child(p, indent, depth, &v);
		if (r != 0)
			break;
		if (json_object_get(m, json_string_value(k)) != NULL) {
			r = yerr(ln->no, "a key given twice");
			break;
		}
		if (json_object_set_new(m, json_string_value(k), v) != 0) {
			v = NULL;
			r = COFFER_E_NOMEM;
			break;
		}
		v = NULL;
		json_decref(k);
		k = NULL;
	}
	json_decref(k);
	json_decref(v);
	if (r == 0 && p->i < p->n && p->l[p->i].indent > indent)
		r = yerr(p->l[p->i].no, "indentation deeper than its mapping");
	if (r != 0) {
		json_decref(m);
		return r;
	}
	*out = m;
	return 0;
}

static int
sequence(struct yparse *p, int indent, int depth, json_t **out)
{
	json_t *a = json_array(), *v = NULL;
	int r = 0;

	if (a == NULL)
		return COFFER_E_NOMEM;
	while (p->i < p->n && p->l[p->i].indent == indent &&
	    p->l[p->i].text[0] == '-') {
		struct yline *ln = &p->l[p->i];

		if (ln->text[1] == '\0') {
			/* "-" alone: the item is on the next lines. */
			p->i++;
			r = child(p, indent, depth, &v);
		} else if (ln->text[1] != ' ') {
			r = yerr(ln->no, "expected '- item'");
		} else {
			int off = 2;

			while (ln->text[off] == ' ')
				off++;
			/* The item starts on this line: it is a node at the
			 * column of its first character. */
			ln->text += off;
			ln->indent += off;
			if (key_line(ln->text) || ln->text[0] == '-')
				r = node(p, ln->indent, depth + 1, &v);
			else {
				p->i++;
				r = inline_value(ln->text, ln->no, &v);
			}
		}
		if (r != 0)
			break;
		if (json_array_append_new(a, v) != 0) {
			r = COFFER_E_NOMEM;
			break;
		}
		v = NULL;
	}
	json_decref(v);
	if (r != 0) {
		json_decref(a);
		return r;
	}
	*out = a;
	return 0;
}

static int
node(struct yparse *p, int indent, int depth, json_t **out)
{
	const char *t;

	if (depth > YAML_DEPTH)
		return yerr(p->l[p->i].no, "nested too deep");
	t = p->l[p->i].text;
	if (t[0] == '-' && (t[1] == ' ' || t[1] == '\0'))
		return sequence(p, indent, depth, out);
	return mapping(p, indent, depth, out);
}

int
k8s_yaml_parse(const char *text, size_t len, json_t **out)
{
	struct yparse p = { NULL, 0, 0 };
	char *copy = NULL;
	json_t *v = NULL;
	int r;

	if (len > YAML_MAX)
		return coffer_errf(COFFER_E_LIMIT, "kubeconfig: over %zu bytes",
		    YAML_MAX);
	if (memchr(text, '\0', len) != NULL)
		return coffer_errf(COFFER_E_FORMAT, "kubeconfig: a NUL byte");
	if ((copy = coffer_malloc(len + 1)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "kubeconfig");
	memcpy(copy, text, len);
	copy[len] = '\0';
	if ((r = split(copy, &p)) != 0)
		goto out;
	if (p.n == 0) {
		r = coffer_errf(COFFER_E_FORMAT, "kubeconfig: empty");
		goto out;
	}
	if ((r = node(&p, p.l[0].indent, 0, &v)) != 0)
		goto out;
	if (p.i < p.n) {
		r = yerr(p.l[p.i].no, "indentation that fits no mapping or list");
		goto out;
	}
	*out = v;
	v = NULL;
out:
	json_decref(v);
	free(p.l);
	free(copy);
	return r;
}

/* ------------------------------------------------------------------ */
/* Connection settings */

void
k8s_conn_init(struct k8s_conn *c)
{
	memset(c, 0, sizeof(*c));
	coffer_buf_init(&c->ca_pem, 1 << 20);
	coffer_buf_init(&c->cert_pem, 1 << 20);
	coffer_buf_init_secret(&c->key_pem, 1 << 20);
}

void
k8s_conn_release(struct k8s_conn *c)
{
	free(c->server);
	free(c->ca_file);
	coffer_buf_release(&c->ca_pem);
	if (c->token != NULL) {
		coffer_wipe(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	coffer_buf_release(&c->cert_pem);
	coffer_buf_release_secret(&c->key_pem);
	free(c->namespace);
	memset(c, 0, sizeof(*c));
}

/* The member of list (an array of {"name": ..., what: {...}}) named
 * name, its what object. */
static int
named(const json_t *root, const char *list, const char *what,
    const char *name, json_t **out)
{
	json_t *arr = json_object_get(root, list), *e;
	size_t i;

	if (!json_is_array(arr))
		return coffer_errf(COFFER_E_FORMAT, "kubeconfig: no %s", list);
	json_array_foreach(arr, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n != NULL && strcmp(n, name) == 0) {
			*out = json_object_get(e, what);
			if (!json_is_object(*out))
				return coffer_errf(COFFER_E_FORMAT, "kubeconfig: %s[%s]: "
				    "no %s", list, name, what);
			return 0;
		}
	}
	return coffer_errf(COFFER_E_FORMAT, "kubeconfig: no %s named '%s'", what,
	    name);
}

/* A file name relative to the kubeconfig's directory. */
static int
rel_path(const char *kubeconfig, const char *name, char **out)
{
	const char *slash = strrchr(kubeconfig, '/');

	if (name[0] == '/' || slash == NULL)
		*out = coffer_strdup(name);
	else if (asprintf(out, "%.*s/%s", (int)(slash - kubeconfig), kubeconfig,
	    name) < 0)
		*out = NULL;
	return *out != NULL ? 0 : coffer_errf(COFFER_E_NOMEM, "kubeconfig");
}

static int
b64_field(const json_t *o, const char *ctx, const char *key,
    struct coffer_buf *b)
{
	const char *v = json_string_value(json_object_get(o, key));
	int r;

	if (v == NULL)
		return 0;
	if ((r = coffer_b64_decode_buf(v, strlen(v), b)) != 0)
		return coffer_errf(COFFER_E_FORMAT, "kubeconfig: %s.%s: not base64",
		    ctx, key);
	return 0;
}

static int
str_field(const json_t *o, const char *key, char **out)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v == NULL)
		return 0;
	return (*out = coffer_strdup(v)) != NULL ? 0 :
	    coffer_errf(COFFER_E_NOMEM, "kubeconfig");
}

static int
path_field(const char *kubeconfig, const json_t *o, const char *key,
    char **out)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? rel_path(kubeconfig, v, out) : 0;
}

static int
check_server(const char *server)
{
	if (strncmp(server, "https://", 8) != 0 || server[8] == '\0')
		return coffer_errf(COFFER_E_UNSUPPORTED, "kubernetes: server '%s' "
		    "is not https://", server);
	return 0;
}

int
k8s_conn_from_kubeconfig(const char *path, const char *context,
    struct k8s_conn *out)
{
	struct coffer_buf text = COFFER_BUF_INIT(YAML_MAX);
	json_t *root = NULL, *ctx, *cluster, *user;
	const char *cur, *cname, *uname, *server;
	struct k8s_conn c;
	int r, insecure;

	k8s_conn_init(&c);
	if ((r = coffer_file_read(path, YAML_MAX, &text)) != 0)
		goto out;
	{
		const char *t = coffer_buf_str(&text);

		while (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t')
			t++;
		r = *t == '{' ? coffer_json_parse(coffer_buf_str(&text), text.len,
		    YAML_MAX, YAML_DEPTH, &root) :
		    k8s_yaml_parse(coffer_buf_str(&text), text.len, &root);
	}
	if (r != 0)
		goto out;
	cur = context != NULL ? context :
	    json_string_value(json_object_get(root, "current-context"));
	if (cur == NULL || cur[0] == '\0') {
		r = coffer_errf(COFFER_E_FORMAT, "kubeconfig: no current-context "
		    "(give the context option)");
		goto out;
	}
	if ((r = named(root, "contexts", "context", cur, &ctx)) != 0)
		goto out;
	cname = json_string_value(json_object_get(ctx, "cluster"));
	uname = json_string_value(json_object_get(ctx, "user"));
	if (cname == NULL) {
		r = coffer_errf(COFFER_E_FORMAT, "kubeconfig: context '%s' names no"
		    " cluster", cur);
		goto out;
	}
	if ((r = named(root, "clusters", "cluster", cname, &cluster)) != 0 ||
	    (r = str_field(ctx, "namespace", &c.namespace)) != 0)
		goto out;
	if ((server = json_string_value(json_object_get(cluster, "server"))) ==
	    NULL) {
		r = coffer_errf(COFFER_E_FORMAT, "kubeconfig: cluster '%s' has no "
		    "server", cname);
		goto out;
	}
	{
		/* The YAML subset reads every scalar as a string. */
		const json_t *skip = json_object_get(cluster,
		    "insecure-skip-tls-verify");

		insecure = json_is_true(skip) || (json_is_string(skip) &&
		    strcmp(json_string_value(skip), "true") == 0);
	}
	if (insecure) {
		r = coffer_errf(COFFER_E_UNSUPPORTED, "kubeconfig: cluster '%s': "
		    "insecure-skip-tls-verify is refused (give its CA)", cname);
		goto out;
	}
	if ((r = check_server(server)) != 0 ||
	    (r = str_field(cluster, "server", &c.server)) != 0 ||
	    (r = path_field(path, cluster, "certificate-authority",
	    &c.ca_file)) != 0 ||
	    (r = b64_field(cluster, "cluster", "certificate-authority-data",
	    &c.ca_pem)) != 0)
		goto out;
	if (uname != NULL) {
		if ((r = named(root, "users", "user", uname, &user)) != 0)
			goto out;
		if (json_object_get(user, "exec") != NULL ||
		    json_object_get(user, "auth-provider") != NULL) {
			r = coffer_errf(COFFER_E_UNSUPPORTED, "kubeconfig: user '%s' "
			    "authenticates with an exec or auth-provider plugin: give "
			    "a token (token-file option) or a client certificate",
			    uname);
			goto out;
		}
		if ((r = str_field(user, "token", &c.token)) != 0 ||
		    (r = path_field(path, user, "tokenFile", &c.token_file)) != 0 ||
		    (r = path_field(path, user, "client-certificate",
		    &c.cert_file)) != 0 ||
		    (r = path_field(path, user, "client-key", &c.key_file)) != 0 ||
		    (r = b64_field(user, "user", "client-certificate-data",
		    &c.cert_pem)) != 0 ||
		    (r = b64_field(user, "user", "client-key-data",
		    &c.key_pem)) != 0)
			goto out;
	}
	/* No trailing '/': paths are appended. */
	for (size_t n = strlen(c.server); n > 8 && c.server[n - 1] == '/'; n--)
		c.server[n - 1] = '\0';
	*out = c;
	memset(&c, 0, sizeof(c));
out:
	if (r != 0 && path != NULL)
		r = coffer_errctx(r, "%s", path);
	json_decref(root);
	coffer_buf_release(&text);
	k8s_conn_release(&c);
	return r;
}

int
k8s_conn_in_cluster(const char *dir, struct k8s_conn *out)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct coffer_buf ns = COFFER_BUF_INIT(256);
	struct k8s_conn c;
	int r = 0;

	if (dir == NULL)
		dir = SA_DIR;
	if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0')
		return coffer_errf(COFFER_E_NOTFOUND, "kubernetes: not in a pod "
		    "(no KUBERNETES_SERVICE_HOST): give the kubeconfig option");
	k8s_conn_init(&c);
	/* An IPv6 service address goes in brackets. */
	if (asprintf(&c.server, strchr(host, ':') != NULL ? "https://[%s]:%s" :
	    "https://%s:%s", host, port) < 0 ||
	    asprintf(&c.ca_file, "%s/ca.crt", dir) < 0 ||
	    asprintf(&c.token_file, "%s/token", dir) < 0) {
		r = coffer_errf(COFFER_E_NOMEM, "kubernetes");
		goto out;
	}
	{
		char nspath[4200];

		snprintf(nspath, sizeof(nspath), "%s/namespace", dir);
		if (coffer_file_read(nspath, 255, &ns) == 0) {
			while (ns.len > 0 && (ns.data[ns.len - 1] == '\n' ||
			    ns.data[ns.len - 1] == ' '))
				ns.data[--ns.len] = '\0';
			if (ns.len > 0 && (c.namespace =
			    coffer_strdup(coffer_buf_str(&ns))) == NULL) {
				r = coffer_errf(COFFER_E_NOMEM, "kubernetes");
				goto out;
			}
		} else
			coffer_errclear();
	}
	*out = c;
	memset(&c, 0, sizeof(c));
out:
	coffer_buf_release(&ns);
	k8s_conn_release(&c);
	return r;
}
