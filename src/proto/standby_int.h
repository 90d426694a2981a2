/* SPDX-License-Identifier: Apache-2.0 */
/* Standby and bind: the labelled inputs both sides compute alike
 * (standby.c), for standby_coord.c and standby_worker.c. Internal to
 * src/proto. */
#ifndef COFFER_PROTO_STANDBY_INT_H
#define COFFER_PROTO_STANDBY_INT_H

#include <stddef.h>
#include <stdint.h>

/* B_s = "coffer/standby/v1" || 0x00 || nonce || w_pk (82 bytes). */
size_t standby_wrap_info(uint8_t out[96], const uint8_t nonce[32],
    const uint8_t w_pk[32]);
/* B_b = "coffer/bind/v1" || 0x00 || job || standby (47 bytes). */
size_t standby_bind_info(uint8_t out[64], const uint8_t job[16],
    const uint8_t standby[16]);

#endif
