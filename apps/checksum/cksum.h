/* SPDX-License-Identifier: Apache-2.0 */
/* The POSIX cksum CRC (the algorithm of cksum(1)), shared by the checksum
 * app's plugin and executable forms. */
#ifndef APPS_CHECKSUM_CKSUM_H
#define APPS_CHECKSUM_CKSUM_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 with polynomial 0x04C11DB7, most significant bit first, over the
 * data and then the length's bytes (least significant first, as many as
 * needed), complemented (POSIX.1-2017, cksum, "DESCRIPTION"). */
static inline uint32_t
app_cksum(const uint8_t *p, size_t n)
{
	uint32_t crc = 0;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 24;
		for (int k = 0; k < 8; k++)
			crc = crc & 0x80000000u ? crc << 1 ^ 0x04C11DB7u : crc << 1;
	}
	for (size_t len = n; len != 0; len >>= 8) {
		crc ^= (uint32_t)(len & 0xff) << 24;
		for (int k = 0; k < 8; k++)
			crc = crc & 0x80000000u ? crc << 1 ^ 0x04C11DB7u : crc << 1;
	}
	return ~crc;
}

#endif
