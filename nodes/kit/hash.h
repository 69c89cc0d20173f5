/* hash — the 64-bit hashes the protocol kit builds on: FNV-1a over bytes, a SplitMix64
 * finalizer, a key's ring/Merkle hash, and the 16-hex-digit text form hashes travel in.
 *
 * Every node (and the lab) computes the same hash for the same bytes on every platform, so
 * rings, Merkle trees and content hashes agree across processes. Not cryptographic.
 */
#ifndef CONLAB_HASH_H
#define CONLAB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SEED 0xcbf29ce484222325ull   /* FNV-1a offset basis: start here */

/* FNV-1a: folds len bytes of data into h and returns the new h. */
uint64_t hash_bytes(uint64_t h, const void *data, size_t len);
/* SplitMix64's finalizer: spreads the bits of x (a bijection). */
uint64_t hash_mix(uint64_t x);
/* The hash of a NUL-terminated string: hash_mix(hash_bytes(HASH_SEED, s, strlen(s))). The
 * position of a key on a ring and in a Merkle tree. */
uint64_t hash_str(const char *s);
/* Writes h as 16 lowercase hex digits and a NUL into buf; returns buf. */
const char *hash_hex(uint64_t h, char buf[17]);
/* Parses exactly 16 hex digits; 0, or CL_EINVAL (and *out untouched) for anything else. */
int hash_parse_hex(const char *s, uint64_t *out);

#endif
