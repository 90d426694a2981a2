/* SPDX-License-Identifier: Apache-2.0 */
/* The accessors of the built-in controllers (each ctl_<name>.c defines one
 * when it is not built as a plugin), for the registry. */
#ifndef COFFER_CONTROLLERS_BUILTIN_H
#define COFFER_CONTROLLERS_BUILTIN_H

#include "coffer/controller.h"

#ifdef COFFER_CONTROLLER_PLUGIN
/* The plugin entry point that COFFER_CONTROLLER_EXPORT defines. */
const struct coffer_controller *coffer_controller_entry_v1(void);
#define CTL_DEFINE(accessor, def) COFFER_CONTROLLER_EXPORT(def)
#else
#define CTL_DEFINE(accessor, def)                                              \
	const struct coffer_controller *accessor(void) { return &(def); }
#endif

const struct coffer_controller *coffer_ctl_asperathos_default(void);
const struct coffer_controller *coffer_ctl_asperathos_pid(void);
const struct coffer_controller *coffer_ctl_deadline(void);
const struct coffer_controller *coffer_ctl_hpa(void);
const struct coffer_controller *coffer_ctl_static(void);

#endif
