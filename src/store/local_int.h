/* SPDX-License-Identifier: Apache-2.0 */
/* The local store's switch for tests (tests/unit/test_store.c): resolve
 * keys with openat2(2) when the kernel has it (1, the default) or always
 * with the component walk that older kernels get (0). */
#ifndef COFFER_STORE_LOCAL_INT_H
#define COFFER_STORE_LOCAL_INT_H

void coffer_store_local_use_openat2(int on);

#endif
