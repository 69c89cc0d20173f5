/* merkle — a two-level Merkle tree over a key-hash space, for anti-entropy (Dynamo §4.7):
 * two replicas compare one root, then 32 subtree hashes, then the 32 leaves under each
 * differing subtree, and exchange only the keys of differing leaves.
 *
 *     root  <-  32 subtrees  <-  1024 leaves  (leaf = the top 10 bits of the key hash)
 *
 * A leaf is the XOR of the content hashes of the items in its range, kept up to date on
 * every change (merkle_update with the old and new content hash), so adding, changing and
 * removing an item cost O(1) and the order of changes does not matter: two trees over the same
 * set of (key hash, content hash) pairs have equal leaves, subtrees and roots; trees over
 * different sets differ (with overwhelming probability). Subtree and root hashes are computed
 * when an exchange starts.
 *
 * Users: leaderless (one tree per peer: the keys both hold); later gossip/CRDT anti-entropy.
 * Plain value (8 KiB); zero-initialise or merkle_clear().
 */
#ifndef CONLAB_MERKLE_H
#define CONLAB_MERKLE_H

#include <jansson.h>
#include <stdint.h>

#define MERKLE_LEAF_BITS 10
#define MERKLE_LEAVES (1 << MERKLE_LEAF_BITS)     /* ranges of the key-hash space */
#define MERKLE_FANOUT 32                          /* leaves under one subtree */
#define MERKLE_TOPS (MERKLE_LEAVES / MERKLE_FANOUT)

struct merkle {
    uint64_t leaf[MERKLE_LEAVES];
};

/* The leaf a key hash falls in. */
unsigned merkle_leaf_of(uint64_t khash);
void merkle_clear(struct merkle *m);
/* An item with key hash khash changed from content hash h_old to h_new (0 = absent). */
void merkle_update(struct merkle *m, uint64_t khash, uint64_t h_old, uint64_t h_new);
/* The hash of subtree t (0..MERKLE_TOPS-1). */
uint64_t merkle_top(const struct merkle *m, int t);
/* Fills top[] with every subtree hash and returns the root. */
uint64_t merkle_root(const struct merkle *m, uint64_t top[MERKLE_TOPS]);
/* The MERKLE_FANOUT leaves under subtree t (borrowed). */
const uint64_t *merkle_leaves(const struct merkle *m, int t);
/* Writes into out the indexes of the leaves under subtree t that differ from theirs[];
 * returns how many. */
int merkle_diff(const struct merkle *m, int t, const uint64_t theirs[MERKLE_FANOUT], int *out);

/* n hashes as a JSON array of 16-hex-digit strings (a new array). */
json_t *merkle_hashes_json(const uint64_t *h, int n);
/* Parses exactly n such strings into out; 0 or CL_EINVAL. */
int merkle_hashes_parse(const json_t *a, uint64_t *out, int n);

#endif
