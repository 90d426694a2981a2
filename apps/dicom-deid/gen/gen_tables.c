// SPDX-License-Identifier: Apache-2.0
// Build-time generator of dicom-deid's tables: the PS3.6 data dictionary
// (tag -> VR, for implicit VR) from standard/attributes.json and the PS3.15
// Table E.1-1 actions from standard/table_E.1-1_2026c.tsv, checked against
// the action codes of Table E.1-1a. Writes one C file; fails the build on
// anything it does not understand, so a new edition cannot slip in unread.
//
//   gen_tables attributes.json table_E.1-1.tsv table_E.1-1a.tsv out.c
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define MAXROWS 8192

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gen_tables: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* "(gggg,eeee)" with hex digits or x/X wildcards -> value and mask (the
 * mask has 0 where the tag had a wildcard). */
static int
parse_tag(const char *s, unsigned *value, unsigned *mask)
{
	unsigned v = 0, m = 0;
	int n = 0;

	if (*s++ != '(')
		return -1;
	for (; *s != '\0' && *s != ')'; s++) {
		if (*s == ',') {
			if (n != 4)
				return -1;
			continue;
		}
		v <<= 4;
		m <<= 4;
		if (*s == 'x' || *s == 'X') {
			/* wildcard nibble */
		} else if (isxdigit((unsigned char)*s)) {
			v |= (unsigned)(isdigit((unsigned char)*s) ? *s - '0' :
			    tolower((unsigned char)*s) - 'a' + 10);
			m |= 0xf;
		} else {
			return -1;
		}
		n++;
	}
	if (n != 8 || *s != ')' || s[1] != '\0')
		return -1;
	*value = v;
	*mask = m;
	return 0;
}

/* The VR column: "US or SS" and the like take the first choice (the parser
 * needs the VR only to find sequences and text; values are never
 * converted), "" and "See Note 2" (item delimiters) become UN. */
static const char *
pick_vr(const char *s)
{
	static char out[3];

	if (strlen(s) >= 2 && isupper((unsigned char)s[0]) &&
	    isupper((unsigned char)s[1]) && (s[2] == '\0' || s[2] == ' ') &&
	    strncmp(s, "Se", 2) != 0) {
		out[0] = s[0];
		out[1] = s[1];
		out[2] = '\0';
		return out;
	}
	if (s[0] == '\0' || strncmp(s, "See Note", 8) == 0)
		return "UN";
	die("attributes.json: VR '%s' not understood", s);
	return NULL;
}

struct row {
	unsigned tag, mask;
	char vr[3];
	const char *codes[11];
};

static int
cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->tag < y->tag ? -1 : x->tag > y->tag;
}

/* Action codes of Table E.1-1a, in the order of enum dd_action (dicom.h). */
static const char *const known_codes[] = {
	"", "D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*",
};
#define NCODES (sizeof(known_codes) / sizeof(known_codes[0]))

static int
code_index(const char *c)
{
	for (size_t i = 0; i < NCODES; i++)
		if (strcmp(c, known_codes[i]) == 0)
			return (int)i;
	return -1;
}

static char *
slurp_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static int
split_tabs(char *line, char **cols, int max)
{
	int n = 0;

	for (char *p = line;; p++) {
		if (n == max)
			return -1;
		cols[n++] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			break;
		*p = '\0';
	}
	return n;
}

static void
check_codes_table(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line, *cols[4];
	int seen = 0;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	free(slurp_line(f)); /* header */
	while ((line = slurp_line(f)) != NULL) {
		if (split_tabs(line, cols, 4) != 2)
			die("%s: expected 2 columns", path);
		if (code_index(cols[0]) <= 0)
			die("%s: action code '%s' is not implemented", path, cols[0]);
		seen++;
		free(line);
	}
	fclose(f);
	if (seen != (int)NCODES - 1)
		die("%s: %d action codes, expected %zu", path, seen, NCODES - 1);
}

int
main(int argc, char **argv)
{
	static struct row dict[MAXROWS], prof[MAXROWS];
	size_t ndict = 0, nprof = 0, nmasked;
	json_error_t jerr;
	json_t *root, *it;
	size_t i;
	FILE *f, *out;
	char *line, *cols[16];

	if (argc != 5)
		die("usage: gen_tables attributes.json table_E.1-1.tsv table_E.1-1a.tsv out.c");
	check_codes_table(argv[3]);

	/* PS3.6 data dictionary. */
	if ((root = json_load_file(argv[1], 0, &jerr)) == NULL || !json_is_array(root))
		die("%s: %s (line %d)", argv[1], jerr.text, jerr.line);
	json_array_foreach(root, i, it) {
		const char *tag = json_string_value(json_object_get(it, "tag"));
		const char *vr = json_string_value(json_object_get(it, "valueRepresentation"));
		struct row *r = &dict[ndict];

		if (tag == NULL || vr == NULL)
			die("%s: entry %zu lacks tag or valueRepresentation", argv[1], i);
		if (ndict == MAXROWS)
			die("too many dictionary entries");
		if (parse_tag(tag, &r->tag, &r->mask) != 0)
			die("%s: tag '%s' not understood", argv[1], tag);
		memcpy(r->vr, pick_vr(vr), 3);
		ndict++;
	}

	/* PS3.15 Table E.1-1: name, tag, retd, in IOD, then 11 action columns. */
	if ((f = fopen(argv[2], "r")) == NULL)
		die("%s: %s", argv[2], strerror(errno));
	line = slurp_line(f);
	if (line == NULL || split_tabs(line, cols, 16) != 15 ||
	    strcmp(cols[1], "Tag") != 0 || strcmp(cols[4], "Basic Prof.") != 0 ||
	    strcmp(cols[14], "Clean Graph. Opt.") != 0)
		die("%s: header is not Table E.1-1's 15 columns", argv[2]);
	free(line);
	while ((line = slurp_line(f)) != NULL) {
		struct row *r = &prof[nprof];
		char *tag;

		if (split_tabs(line, cols, 16) != 15)
			die("%s: row %zu: expected 15 columns", argv[2], nprof + 2);
		tag = cols[1];
		if (strcmp(tag, "(gggg,eeee) where gggg is odd") == 0) {
			/* Private attributes: handled in code (deid.c), which
			 * checks here that the table still says X / C. */
			if (strcmp(cols[4], "X") != 0 || strcmp(cols[5], "C") != 0)
				die("private attributes row changed: %s / %s", cols[4], cols[5]);
			free(line);
			continue;
		}
		if (parse_tag(tag, &r->tag, &r->mask) != 0)
			die("%s: tag '%s' not understood", argv[2], tag);
		for (int c = 0; c < 11; c++) {
			if (code_index(cols[4 + c]) < 0)
				die("%s: %s: action '%s' not in Table E.1-1a", argv[2], tag,
				    cols[4 + c]);
			r->codes[c] = known_codes[code_index(cols[4 + c])];
		}
		if (r->codes[0][0] == '\0')
			die("%s: %s has no Basic Profile action", argv[2], tag);
		nprof++;
		free(line);
	}
	fclose(f);
	if (nprof < 600)
		die("%s: only %zu rows", argv[2], nprof);

	qsort(dict, ndict, sizeof(dict[0]), cmp_row);
	qsort(prof, nprof, sizeof(prof[0]), cmp_row);
	for (i = 1; i < nprof; i++)
		if (prof[i].tag == prof[i - 1].tag && prof[i].mask == prof[i - 1].mask)
			die("profile: tag %08x twice", prof[i].tag);

	if ((out = fopen(argv[4], "w")) == NULL)
		die("%s: %s", argv[4], strerror(errno));
	fprintf(out, "/* Generated by apps/dicom-deid/gen/gen_tables.c from %s,\n"
	    " * %s and %s. Do not edit. */\n#include \"dicom.h\"\n\n", argv[1],
	    argv[2], argv[3]);
	fprintf(out, "const struct dd_dict_entry dd_dict[] = {\n");
	for (i = 0; i < ndict; i++)
		if (dict[i].mask == 0xffffffffu)
			fprintf(out, "\t{ 0x%08xu, 0xffffffffu, VR('%c', '%c') },\n",
			    dict[i].tag, dict[i].vr[0], dict[i].vr[1]);
	fprintf(out, "};\nconst size_t dd_dict_n = sizeof(dd_dict) / sizeof(dd_dict[0]);\n\n");
	fprintf(out, "/* Repeating groups and elements (PS3.5 7.6): tried in order\n"
	    " * after an exact miss. */\nconst struct dd_dict_entry dd_dict_masked[] = {\n");
	nmasked = 0;
	for (i = 0; i < ndict; i++)
		if (dict[i].mask != 0xffffffffu) {
			fprintf(out, "\t{ 0x%08xu, 0x%08xu, VR('%c', '%c') },\n",
			    dict[i].tag, dict[i].mask, dict[i].vr[0], dict[i].vr[1]);
			nmasked++;
		}
	fprintf(out, "};\nconst size_t dd_dict_masked_n = %zu;\n\n", nmasked);

	fprintf(out, "#define A(x) DD_A_##x\n");
	fprintf(out, "const struct dd_profile_entry dd_profile[] = {\n");
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			fprintf(out, "};\nconst size_t dd_profile_n = sizeof(dd_profile) /"
			    " sizeof(dd_profile[0]);\n\nconst struct dd_profile_entry"
			    " dd_profile_masked[] = {\n");
		for (i = 0; i < nprof; i++) {
			if ((prof[i].mask == 0xffffffffu) != (pass == 0))
				continue;
			fprintf(out, "\t{ 0x%08xu, 0x%08xu, {", prof[i].tag, prof[i].mask);
			for (int c = 0; c < 11; c++) {
				char name[8];
				const char *s = prof[i].codes[c];
				size_t k = 0;

				for (; *s != '\0' && k < sizeof(name) - 1; s++)
					if (*s != '/' && *s != '*')
						name[k++] = *s;
				name[k] = '\0';
				fprintf(out, "%s A(%s)", c ? "," : "", k ? name : "NONE");
			}
			fprintf(out, " } },\n");
		}
	}
	fprintf(out, "};\nconst size_t dd_profile_masked_n = sizeof(dd_profile_masked) /"
	    " sizeof(dd_profile_masked[0]);\n");
	if (fclose(out) != 0)
		die("%s: write error", argv[4]);
	json_decref(root);
	return 0;
}
