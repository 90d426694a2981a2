/* SPDX-License-Identifier: Apache-2.0 */
/* Finding a replica controller: a built-in one by name, or a plugin .so by
 * path, loaded with dlopen() and checked against the controller ABI
 * (include/coffer/controller.h). */
#ifndef COFFER_CONTROLLERS_REGISTRY_H
#define COFFER_CONTROLLERS_REGISTRY_H

#include <stddef.h>

#include "coffer/controller.h"

/*
 * Resolve name_or_path to a controller definition.
 *
 * - A string containing '/' is a path to a plugin: it is dlopen()ed, its
 *   entry symbol COFFER_CONTROLLER_ENTRY_SYMBOL is called and the returned
 *   definition is checked (non-NULL, size covers version 1's fields,
 *   abi_version == COFFER_CONTROLLER_ABI_VERSION, name, create and decide
 *   set). *dl_handle gets the handle; pass it to coffer_controller_unload()
 *   after the last use of *out (and of every state it created).
 * - Anything else is the name of a built-in controller ("asperathos-default",
 *   "asperathos-pid", "deadline", "hpa", "static"; see doc/controllers.md);
 *   *dl_handle gets NULL.
 *
 * Errors (with a detail naming the controller or path):
 *   COFFER_E_INVAL     NULL or empty name
 *   COFFER_E_NOTFOUND  no built-in of that name (the detail lists them)
 *   COFFER_E_IO        dlopen() failed (the detail has dlerror())
 *   COFFER_E_ABI       no entry symbol, entry returned NULL, size too small,
 *                      wrong abi_version, or a required member missing
 * Out-parameters are written only on success.
 */
int coffer_controller_find(const char *name_or_path,
    const struct coffer_controller **out, void **dl_handle)
	__attribute__((warn_unused_result));

/* dlclose() a handle from coffer_controller_find(). NULL is a no-op. */
void coffer_controller_unload(void *dl_handle);

/*
 * Check a definition against the ABI (the checks listed above), as the
 * loader does for plugins. 0 or COFFER_E_ABI with a detail; what names the
 * source in the message (a path or a name).
 */
int coffer_controller_check(const struct coffer_controller *def,
    const char *what) __attribute__((warn_unused_result));

/* The built-in controllers, in a fixed order: returns how many there are
 * and, if i < that count, the i-th definition in *out. */
size_t coffer_controller_builtin(size_t i, const struct coffer_controller **out);

#endif
