/* rlog — a replicated log in memory: entries at consecutive indexes 1, 2, 3, … each stamped
 * with the term (Raft) or epoch (primary/backup) of the leader that appended it, holding one
 * key/value command (put, cas, noop, or a configuration). A prefix may be compacted away into
 * a snapshot: then the log starts after `base`, whose term is remembered.
 *
 *     index:  base | base+1 … last
 *     term:   base_term (rlog_term_at(base)) | each entry's term
 *
 * Persistence (record formats, fsync) and replication stay with the mode: each mode has its
 * own wire and disk form. What the log guarantees: rlog_at(i) is valid exactly for
 * base < i <= last; pushing appends at last+1; truncation drops a suffix; compaction a prefix.
 *
 * Users: raft (with snapshots and configurations), leader (base always 0); next ZAB and
 * Multi-Paxos. The KV state machine the entries feed is kvsm.h. Ownership: entries own their
 * strings; rlog_push() takes an entry's strings, rlog_free() frees everything.
 */
#ifndef CONLAB_RLOG_H
#define CONLAB_RLOG_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Command types; the numbers are part of raft's wire and disk forms. */
enum kvcmd_type { KV_NOOP = 0, KV_PUT = 1, KV_CAS = 2, KV_CONF = 3, KV_OP = 4 };
/* KV_OP: an operation of another state machine than kvsm, as JSON text in value (key: its name),
 * such as the ZooKeeper-like tree of zksm.h; kvsm leaves it alone. */

struct rlog_entry {
    uint64_t term;          /* term or epoch of the leader that appended it */
    int by;                 /* the node that appended it, where the mode records it (leader) */
    int type;               /* enum kvcmd_type */
    uint32_t members;       /* KV_CONF: bit i = node index i votes */
    char *key, *value;      /* KV_PUT: key = value; KV_CAS: key from -> value */
    char *from;             /* KV_CAS */
    char *client;           /* the client that asked (sessions), or NULL */
    uint64_t msg_id;        /* its request id (sessions) */
};

struct rlog {
    struct rlog_entry *e;   /* e[k] holds index base + 1 + k */
    size_t n, cap;
    uint64_t base, base_term;
};

void rlog_entry_free(struct rlog_entry *en);
/* "put x 1", "cas x 1 2", "noop", "config n1,n2,n3": the command as a user reads it; names[i]
 * names node i for i < n_names, else "n<i+1>". Caller frees. */
char *rlog_entry_text(const struct rlog_entry *en, const char (*names)[CL_IDLEN], int n_names);
/* The same, cut to about 96 bytes for events and status: a long one keeps its length and a
 * hash of the whole, so different commands stay different. Caller frees. */
char *rlog_entry_label(const struct rlog_entry *en, const char (*names)[CL_IDLEN], int n_names);
/* An upper bound of the bytes entry en takes in a JSON message (its strings escaped, its
 * numbers and punctuation): what a mode counts to keep a batch of entries under the 1 MiB
 * frame cap. */
size_t rlog_entry_json_cost(const struct rlog_entry *en);
/* Appends "n1,n2,n3" for a member mask. */
void rlog_members_text(uint32_t members, const char (*names)[CL_IDLEN], int n_names, struct sb *out);

/* The index of the last entry (base when empty). */
uint64_t rlog_last(const struct rlog *l);
/* The entry at index i, or NULL when i <= base or i > last (borrowed). */
struct rlog_entry *rlog_at(const struct rlog *l, uint64_t i);
/* The term at index i: base_term at base, 0 when unknown (compacted or past the end). */
uint64_t rlog_term_at(const struct rlog *l, uint64_t i);
/* Appends en at last + 1, taking its strings (en is left zeroed). Returns the new index. */
uint64_t rlog_push(struct rlog *l, struct rlog_entry *en);
/* Drops the entries at index >= from (no-op when from > last; from <= base drops them all). */
void rlog_truncate(struct rlog *l, uint64_t from);
/* Drops the entries at index <= upto (all of them when upto >= last) and makes upto the base,
 * with term base_term. */
void rlog_compact(struct rlog *l, uint64_t upto, uint64_t base_term);
/* Frees every entry; the log is empty with base 0. */
void rlog_free(struct rlog *l);

#endif
