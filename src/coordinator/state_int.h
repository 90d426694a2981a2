/* SPDX-License-Identifier: Apache-2.0 */
/* For the files that implement parts of state.h beside state.c (the
 * ledger's tables, state_ledger.c): the SQLite handle under the state and
 * its error text. Nothing outside the state's own files includes this. */
#ifndef COFFER_COORDINATOR_STATE_INT_H
#define COFFER_COORDINATOR_STATE_INT_H

#include <sqlite3.h>

#include "coordinator/state.h"

sqlite3 *coord_state_sqlite(struct coord_state *st);
/* COFFER_E_DB "state: <what>: <SQLite's message>". */
int coord_state_dberr(struct coord_state *st, const char *what);

#endif
