/* crdt — conflict-free replicated data types as plain values (Shapiro, Preguiça, Baquero,
 * Zawirski 2011, "Conflict-free replicated data types"; Almeida, Shoker, Baquero 2018,
 * "Delta state replicated data types"). A pure library in the protocol kit: no environment, no
 * I/O; the crdt mode (nodes/modes/crdt/), multi-leader's conflict=merge with a CRDT merge
 * (merge=pncounter, orset, …) and the law tests (tests/check_crdt.c) build on it.
 *
 * Every type is a join-semilattice: crdt_merge() is the least upper bound, so it is
 * commutative, associative and idempotent, and every update only inflates the state. A state
 * therefore converges whatever the order, duplication or staleness of the states a replica
 * merges (C3, C4 in SCENARIOS.md). An update returns the *delta*: the smallest state that,
 * merged into any replica, has the update's effect (delta-state CRDTs); merging the delta
 * into the updated replica itself changes nothing.
 *
 *   type       state                                   query                 updates
 *   gcounter   p[i]: what node i added                 Σ p                   inc N
 *   pncounter  p[i], n[i]: two G-counters              Σ p − Σ n             inc N, dec N
 *   gset       A: grow-only set                        A                     add E
 *   2pset      A, R (tombstones): two G-sets           A \ R                 add E, rem E (E ∈ A \ R)
 *   orset      entries (E, dot), removed dots D        {E | some dot ∉ D}    add E, rem E (observed dots)
 *   lww        (ts, node, value), highest wins         value                 set V at ts
 *   mv         antichain of (value, version vector)    every value           set V (supersedes all seen)
 *   cart       entries (item, dot, amount), D          item → Σ live amounts add ITEM N, rem ITEM
 *
 * The cart is an OR-Map of counters: each item's counter is kept as dotted increments, so a
 * remove takes away exactly the increments it observed (and the item with them), while an add
 * concurrent with it survives with its own amount: add wins, and the quantity is that add's.
 *
 * A key has one type. When two replicas created the same key with different types, the merge
 * keeps the state of the higher type (a lexicographic lattice: deterministic, still a join).
 *
 * Dots (node, counter) come from the caller (the mode keeps one counter per node), and must
 * be unique: a dot names one update. Node indexes run from 0 to CL_MAXN-1.
 *
 * Op-based use: crdt_remove_dots() is the op-based OR-Set/cart remove effector — it drops the
 * entries with the given dots and keeps no tombstone. It is correct only under causal delivery
 * (the add it observed was delivered first); the mode's bug=no-causal shows why.
 *
 * Wire form (JSON, crdt_to_json / crdt_from_json): {"t":"orset","e":[["milk",0,3],…],"d":[[1,2],…]}
 * and so on (docs/modes/crdt.md). The decoder refuses, naming what and where: unknown types,
 * nodes outside the cluster, counters above CRDT_MAX_COUNT, strings over CRDT_MAX_ELEM bytes or
 * not UTF-8-clean (NUL), more than CRDT_MAX_ITEMS entries.
 *
 * Ownership: crdt_new() and the decoders return states the caller frees with crdt_free();
 * every json_t returned is new (caller decrefs). Not thread-safe; plain single-owner values.
 */
#ifndef CONLAB_CRDT_H
#define CONLAB_CRDT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "vv.h"

#define CRDT_MAX_ELEM 256                      /* bytes in an element, item or value */
#define CRDT_MAX_ITEMS 200000                  /* entries (plus tombstones) in one state */
#define CRDT_MAX_COUNT ((uint64_t)1 << 56)     /* a counter component, a dot counter, a ts */
#define CRDT_MAX_AMOUNT ((int64_t)1 << 40)     /* one increment (counter or cart) */

enum crdt_type {
    CRDT_GCOUNTER,
    CRDT_PNCOUNTER,
    CRDT_GSET,
    CRDT_2PSET,
    CRDT_ORSET,
    CRDT_LWW,
    CRDT_MV,
    CRDT_CART,
    CRDT_NTYPES
};

/* A dot: one update, by node, its counter-th. */
struct crdt_dot {
    int node;
    uint64_t ctr;
};

/* A dotted entry of an OR-Set (amount 1) or a cart (amount: the increment). */
struct crdt_dentry {
    char *elem;
    struct crdt_dot dot;
    int64_t amount;
};

/* A value of an MV-register with the version vector of the write that set it. */
struct crdt_mventry {
    char *value;
    struct vv vv;
};

struct crdt_strs {
    char **v;           /* sorted, distinct, owned */
    size_t n, cap;
};

struct crdt {
    enum crdt_type type;
    /* counters */
    uint64_t p[CL_MAXN], n[CL_MAXN];
    /* gset: a; 2pset: a and r (removed) */
    struct crdt_strs a, r;
    /* orset, cart: entries sorted by (elem, node, ctr); removed dots sorted by (node, ctr) */
    struct crdt_dentry *e;
    size_t ne, cape;
    struct crdt_dot *d;
    size_t nd, capd;
    /* lww */
    uint64_t ts;
    int node;
    char *value;        /* NULL: never set */
    /* mv: an antichain of version vectors, sorted by value then vector */
    struct crdt_mventry *mv;
    size_t nmv, capmv;
};

/* "gcounter", "pncounter", … ; crdt_type_of returns -1 for an unknown name. */
const char *crdt_type_name(enum crdt_type t);
int crdt_type_of(const char *name);
/* The '|'-list of every type name (static). */
const char *crdt_type_names(void);

/* A new empty state (the bottom of the type's lattice). Caller frees. */
struct crdt *crdt_new(enum crdt_type t);
void crdt_free(struct crdt **c);
struct crdt *crdt_copy(const struct crdt *c);

/* dst = dst ⊔ src. Returns 1 when dst changed (src was not already included), else 0.
 * bug_sum: counters add components instead of taking the maximum (the mode's bug=merge-sum:
 * no longer idempotent — a redelivered state counts twice). */
int crdt_merge(struct crdt *dst, const struct crdt *src, int bug_sum);
/* 1 when a ⊑ b (merging a into b changes nothing). */
int crdt_leq(const struct crdt *a, const struct crdt *b);
/* 1 when the states are equal as lattice elements. */
int crdt_equal(const struct crdt *a, const struct crdt *b);

/* ---- updates: each applies to c and returns the delta (caller frees), or NULL with err
 * filled when the update does not fit the type or its precondition. ---- */

/* gcounter (n >= 1) and pncounter (n may be negative: a decrement) at node. */
struct crdt *crdt_add(struct crdt *c, int node, int64_t n, char *err, size_t errlen);
/* gset, 2pset, orset (dot names the add), cart (amount != 0; dot names the increment). */
struct crdt *crdt_insert(struct crdt *c, const char *elem, struct crdt_dot dot, int64_t amount,
                         char *err, size_t errlen);
/* 2pset (elem must be present), orset and cart (removes the dots observed here; *removed gets
 * how many, 0 when the element was absent — a no-op with an empty delta). */
struct crdt *crdt_remove(struct crdt *c, const char *elem, size_t *removed, char *err, size_t errlen);
/* lww: at (ts, node); mv: a new vector that dominates every value seen, with node's entry
 * raised to ctr. */
struct crdt *crdt_assign(struct crdt *c, const char *value, int node, uint64_t ts_or_ctr,
                         char *err, size_t errlen);
/* Op-based remove effector (orset, cart): drops the entries of elem with these dots, keeps no
 * tombstone. Returns how many were dropped. */
size_t crdt_remove_dots(struct crdt *c, const char *elem, const struct crdt_dot *dots, size_t n);
/* The dots of elem's live entries (orset, cart): a new array (caller frees) and its length. */
struct crdt_dot *crdt_dots_of(const struct crdt *c, const char *elem, size_t *n);

/* ---- queries and forms ---- */

/* What a client reads (a new value): a number, a sorted array of strings, a string or null,
 * or an object item → quantity; an MV-register with one value reads as that string. */
json_t *crdt_query(const struct crdt *c);
/* The wire form (a new object). */
json_t *crdt_to_json(const struct crdt *c);
/* The wire form split into pieces of at most max_items entries each (a new array of states,
 * each a lower bound of c; merging them all gives c back). */
json_t *crdt_to_json_pieces(const struct crdt *c, size_t max_items);
/* Decodes the wire form; nodes is how many nodes the cluster has (a dot or component of
 * another node is refused). Returns NULL with err naming the first problem. */
struct crdt *crdt_from_json(const json_t *j, int nodes, char *err, size_t errlen);
/* Entries plus tombstones (or components): what a state's size is measured in. */
size_t crdt_items(const struct crdt *c);
/* Highest counter of node's dots in c (orset, cart, mv): a restarted node continues after it. */
uint64_t crdt_max_dot(const struct crdt *c, int node);
/* Appends a human description of the internal state (dots, tombstones, vectors, clocks) to
 * out, one line per part; names[i] names node i. */
void crdt_describe(const struct crdt *c, int nodes, const char (*names)[CL_IDLEN], struct sb *out);

/* ---- causal contexts: which updates a replica's state of a key includes -------------------
 * A set of dots, kept as a version vector (every dot up to base[i] of node i) plus the dots
 * beyond it that arrived out of order. Merge is set union (a join again). The crdt mode gives
 * each key its own dots (node, per-key counter) and its monitor compares replicas whose
 * contexts are equal: they have seen the same updates, so they must hold the same value. */
struct crdt_ctx {
    struct vv base;
    struct crdt_dot *extra;     /* sorted, none covered by base; owned */
    size_t nextra;
};

void crdt_ctx_clear(struct crdt_ctx *x);
void crdt_ctx_copy(struct crdt_ctx *dst, const struct crdt_ctx *src);
/* Adds one dot; returns 1 when it was new. */
int crdt_ctx_add(struct crdt_ctx *x, struct crdt_dot d);
int crdt_ctx_has(const struct crdt_ctx *x, struct crdt_dot d);
/* dst ∪= src; returns 1 when dst grew. */
int crdt_ctx_merge(struct crdt_ctx *dst, const struct crdt_ctx *src);
int crdt_ctx_equal(const struct crdt_ctx *a, const struct crdt_ctx *b);
/* {"v":[counters…],"x":[[node,ctr],…]} (a new object) and back (err names the bad part). */
json_t *crdt_ctx_to_json(const struct crdt_ctx *x);
int crdt_ctx_from_json(const json_t *j, int nodes, struct crdt_ctx *out, char *err, size_t errlen);
/* "n1:3,n2:1" then "+n3:5" per extra dot ("" when empty). */
void crdt_ctx_text(const struct crdt_ctx *x, int nodes, const char (*names)[CL_IDLEN], struct sb *out);

#endif
