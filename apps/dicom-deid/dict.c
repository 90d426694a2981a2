// SPDX-License-Identifier: Apache-2.0
// Look-ups in the generated tables: the PS3.6 dictionary (implicit VR) and
// PS3.15 Table E.1-1. Exact tags by binary search; the repeating groups
// (PS3.5 7.6: 50xx curves, 60xx overlays, ...) by mask after a miss.
#include <stdlib.h>

#include "dicom.h"

static int
cmp_dict(const void *key, const void *ent)
{
	uint32_t t = *(const uint32_t *)key, u = ((const struct dd_dict_entry *)ent)->tag;

	return t < u ? -1 : t > u;
}

static int
cmp_prof(const void *key, const void *ent)
{
	uint32_t t = *(const uint32_t *)key, u = ((const struct dd_profile_entry *)ent)->tag;

	return t < u ? -1 : t > u;
}

uint16_t
dd_vr(uint32_t tag)
{
	const struct dd_dict_entry *e;
	uint16_t g = TAG_GROUP(tag), el = TAG_ELEM(tag);

	if (el == 0x0000)
		return VR('U', 'L'); /* group length (PS3.5 7.2) */
	if (g & 1) {
		/* Private: creators (gggg,0010-00FF) are LO (PS3.5 7.8.1). */
		return el >= 0x0010 && el <= 0x00ff ? VR('L', 'O') : VR('U', 'N');
	}
	e = bsearch(&tag, dd_dict, dd_dict_n, sizeof(dd_dict[0]), cmp_dict);
	if (e != NULL)
		return e->vr;
	for (size_t i = 0; i < dd_dict_masked_n; i++)
		if ((tag & dd_dict_masked[i].mask) == dd_dict_masked[i].tag)
			return dd_dict_masked[i].vr;
	return VR('U', 'N');
}

const struct dd_profile_entry *
dd_profile_find(uint32_t tag)
{
	const struct dd_profile_entry *e;

	e = bsearch(&tag, dd_profile, dd_profile_n, sizeof(dd_profile[0]), cmp_prof);
	if (e != NULL)
		return e;
	/* Repeating groups are only the even groups 6000-601E (PS3.5 7.6) and,
	 * for the retired curves, 5000-501E (PS3.5-2004). */
	if ((TAG_GROUP(tag) & 0xff01u) != 0x5000u && (TAG_GROUP(tag) & 0xff01u) != 0x6000u)
		return NULL;
	if ((TAG_GROUP(tag) & 0x00ffu) > 0x1e)
		return NULL;
	for (size_t i = 0; i < dd_profile_masked_n; i++)
		if ((tag & dd_profile_masked[i].mask) == dd_profile_masked[i].tag)
			return &dd_profile_masked[i];
	return NULL;
}

int
dd_vr_known(uint16_t vr, int *long_len)
{
	/* PS3.5 Table 7.1-1 and 7.1-2: the VRs with a 4-byte length. */
	static const uint16_t longs[] = {
		VR('O', 'B'), VR('O', 'D'), VR('O', 'F'), VR('O', 'L'), VR('O', 'V'),
		VR('O', 'W'), VR('S', 'Q'), VR('S', 'V'), VR('U', 'C'), VR('U', 'N'),
		VR('U', 'R'), VR('U', 'T'), VR('U', 'V'),
	};
	static const uint16_t shorts[] = {
		VR('A', 'E'), VR('A', 'S'), VR('A', 'T'), VR('C', 'S'), VR('D', 'A'),
		VR('D', 'S'), VR('D', 'T'), VR('F', 'L'), VR('F', 'D'), VR('I', 'S'),
		VR('L', 'O'), VR('L', 'T'), VR('P', 'N'), VR('S', 'H'), VR('S', 'L'),
		VR('S', 'S'), VR('S', 'T'), VR('T', 'M'), VR('U', 'I'), VR('U', 'L'),
		VR('U', 'S'),
	};

	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
		if (vr == longs[i]) {
			*long_len = 1;
			return 1;
		}
	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++)
		if (vr == shorts[i]) {
			*long_len = 0;
			return 1;
		}
	return 0;
}
