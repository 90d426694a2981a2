// SPDX-License-Identifier: Apache-2.0
// Merkle trees by levels (rtree.h). Why the levels give RFC 9162's tree:
// the recursive split at the largest power of two k < n puts the first k
// leaves in a perfect subtree, which is exactly the pairs of the levels
// above; the rest is the same construction on n - k leaves, whose lone
// last nodes are the ones that move up unpaired.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/mem.h"
#include "coordinator/rtree.h"

int
rtree_build(const coffer_merkle_hash *leaves, size_t n, struct rtree *t)
{
	size_t w = n;
	int r;

	memset(t, 0, sizeof(*t));
	if (n == 0)
		return 0;
	if ((t->level[0] = coffer_mallocarray(n, sizeof(coffer_merkle_hash))) == NULL)
		return COFFER_E_NOMEM;
	memcpy(t->level[0], leaves, n * sizeof(coffer_merkle_hash));
	t->width[0] = n;
	t->nlevels = 1;
	while (w > 1) {
		size_t up = (w + 1) / 2, k = t->nlevels;

		if (k > COFFER_MERKLE_MAX_PATH) {
			rtree_release(t);
			return coffer_errf(COFFER_E_LIMIT, "tree too deep");
		}
		if ((t->level[k] = coffer_mallocarray(up, sizeof(coffer_merkle_hash))) == NULL) {
			rtree_release(t);
			return COFFER_E_NOMEM;
		}
		for (size_t i = 0; i < up; i++) {
			if (2 * i + 1 < w) {
				if ((r = coffer_merkle_node(t->level[k - 1][2 * i],
				    t->level[k - 1][2 * i + 1], t->level[k][i])) != 0) {
					rtree_release(t);
					return r;
				}
			} else {
				memcpy(t->level[k][i], t->level[k - 1][2 * i], 32);
			}
		}
		t->width[k] = up;
		t->nlevels++;
		w = up;
	}
	return 0;
}

void
rtree_release(struct rtree *t)
{
	for (size_t i = 0; i < t->nlevels; i++)
		free(t->level[i]);
	memset(t, 0, sizeof(*t));
}

int
rtree_root(const struct rtree *t, coffer_merkle_hash out)
{
	if (t->nlevels == 0)
		return coffer_sha256("", 0, out);
	memcpy(out, t->level[t->nlevels - 1][0], 32);
	return 0;
}

int
rtree_path(const struct rtree *t, size_t index, coffer_merkle_hash *path,
    size_t *len)
{
	size_t pos = index, n = 0;

	if (t->nlevels == 0 || index >= t->width[0])
		return coffer_errf(COFFER_E_INVAL, "leaf %zu is not in the tree", index);
	/* Bottom up, as PATH lists them: the sibling at each level, when the
	 * node has one (a lone last node has none: it moved up as it was). */
	for (size_t k = 0; k + 1 < t->nlevels; k++, pos /= 2)
		if ((pos ^ 1) < t->width[k])
			memcpy(path[n++], t->level[k][pos ^ 1], 32);
	*len = n;
	return 0;
}
