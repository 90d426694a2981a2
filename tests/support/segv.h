/* SPDX-License-Identifier: Apache-2.0 */
/* Tests that crash a plugin in its host (doc/worker.md 9.5). */
#ifndef COFFER_TESTS_SEGV_H
#define COFFER_TESTS_SEGV_H

/* Sanitizer builds: a plugin's SIGSEGV stays a signal in the plugin host,
 * which gets ASAN_OPTIONS as an executable app would (doc/worker.md 4.3):
 * adds handle_segv=0 to this process's ASAN_OPTIONS. 0, or -1. */
int test_segv_stays_a_signal(void);

#endif
