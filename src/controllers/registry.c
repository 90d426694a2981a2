/* SPDX-License-Identifier: Apache-2.0 */
/* The controller registry: built-in controllers by name, plugins by path
 * through dlopen(), both checked against the controller ABI. */
#include <dlfcn.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "coffer/error.h"
#include "controllers/builtin.h"
#include "controllers/registry.h"

/* The smallest struct coffer_controller a version-1 plugin may have. */
#define CTL_DEF_V1_SIZE \
	(offsetof(struct coffer_controller, destroy) + sizeof(void (*)(void *)))

typedef const struct coffer_controller *(*accessor_fn)(void);

static const accessor_fn builtins[] = {
	coffer_ctl_deadline,
	coffer_ctl_asperathos_default,
	coffer_ctl_asperathos_pid,
	coffer_ctl_hpa,
	coffer_ctl_static,
};
#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

size_t
coffer_controller_builtin(size_t i, const struct coffer_controller **out)
{
	if (i < NBUILTINS && out != NULL)
		*out = builtins[i]();
	return NBUILTINS;
}

int
coffer_controller_check(const struct coffer_controller *def, const char *what)
{
	if (what == NULL)
		what = "controller";
	if (def == NULL)
		return coffer_errf(COFFER_E_ABI, "%s: no controller definition", what);
	if (def->size < CTL_DEF_V1_SIZE)
		return coffer_errf(COFFER_E_ABI, "%s: definition size %u is smaller "
		    "than version 1's %zu", what, (unsigned)def->size,
		    (size_t)CTL_DEF_V1_SIZE);
	if (def->abi_version != COFFER_CONTROLLER_ABI_VERSION)
		return coffer_errf(COFFER_E_ABI, "%s: controller ABI version %u, this "
		    "host speaks %u", what, (unsigned)def->abi_version,
		    (unsigned)COFFER_CONTROLLER_ABI_VERSION);
	if (def->name == NULL || def->name[0] == '\0')
		return coffer_errf(COFFER_E_ABI, "%s: controller has no name", what);
	if (def->create == NULL || def->decide == NULL)
		return coffer_errf(COFFER_E_ABI, "%s: controller \"%s\" lacks %s", what,
		    def->name, def->create == NULL ? "create()" : "decide()");
	return 0;
}

static int
load_plugin(const char *path, const struct coffer_controller **out,
    void **dl_handle)
{
	const struct coffer_controller *def;
	coffer_controller_entry_fn entry;
	void *h, *sym;
	const char *e;
	int r;

	dlerror();
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		return coffer_errf(COFFER_E_IO, "controller plugin %s: %s", path,
		    e != NULL ? e : "dlopen failed");
	}
	dlerror();
	sym = dlsym(h, COFFER_CONTROLLER_ENTRY_SYMBOL);
	if (sym == NULL) {
		dlclose(h);
		return coffer_errf(COFFER_E_ABI, "controller plugin %s: no %s symbol "
		    "(built without COFFER_CONTROLLER_EXPORT?)", path,
		    COFFER_CONTROLLER_ENTRY_SYMBOL);
	}
	/* POSIX guarantees object/function pointer conversion for dlsym. */
	memcpy(&entry, &sym, sizeof(entry));
	def = entry();
	if ((r = coffer_controller_check(def, path)) != 0) {
		dlclose(h);
		return r;
	}
	*out = def;
	*dl_handle = h;
	return 0;
}

int
coffer_controller_find(const char *name_or_path,
    const struct coffer_controller **out, void **dl_handle)
{
	const struct coffer_controller *def;
	char names[256];
	size_t i, off = 0;
	int r;

	if (name_or_path == NULL || name_or_path[0] == '\0' || out == NULL ||
	    dl_handle == NULL)
		return coffer_errf(COFFER_E_INVAL, "controller: no name given");
	if (strchr(name_or_path, '/') != NULL)
		return load_plugin(name_or_path, out, dl_handle);
	for (i = 0; i < NBUILTINS; i++) {
		def = builtins[i]();
		if (strcmp(def->name, name_or_path) == 0) {
			if ((r = coffer_controller_check(def, def->name)) != 0)
				return r;
			*out = def;
			*dl_handle = NULL;
			return 0;
		}
	}
	names[0] = '\0';
	for (i = 0; i < NBUILTINS; i++) {
		int k = snprintf(names + off, sizeof(names) - off, "%s%s",
		    i ? ", " : "", builtins[i]()->name);

		if (k < 0 || (size_t)k >= sizeof(names) - off)
			break;
		off += (size_t)k;
	}
	return coffer_errf(COFFER_E_NOTFOUND, "controller \"%.64s\": no such "
	    "built-in controller (built-ins: %s; a plugin is given by a path "
	    "containing '/')", name_or_path, names);
}

void
coffer_controller_unload(void *dl_handle)
{
	if (dl_handle != NULL)
		dlclose(dl_handle);
}
