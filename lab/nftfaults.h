/* nftfaults — faults=kernel: the lab's network faults as nftables rules on a host (run by
 * the host agent, as root, in its own network namespace or on its own machine).
 *
 * The lab sends each agent the rules that concern its host's nodes, as JSON:
 *   {"rules": [{"dst": "10.0.0.2", "dport": 41234, "src": "10.0.0.3", "loss": 100}, ...]}
 * Each rule drops (loss 100) or randomly drops (loss 1..99, nftables' `numgen random`)
 * the TCP packets arriving at a local node's peer port from a source address (a host): the
 * packets of every connection on which src's nodes send to that node, both ways, so that the
 * cut is one-way at the message level (the node's own messages to src ride its own
 * connection, to src's port). Each rule counts the packets it sees and drops (nft counters),
 * so the loss can be measured on the wire.
 *
 * Everything lives in one table of our own, `inet conlab_<pid>`, replaced whole on every apply
 * and deleted on clear: nothing else on the host is touched. */
#ifndef CONLAB_NFTFAULTS_H
#define CONLAB_NFTFAULTS_H

#include <jansson.h>
#include <stddef.h>

struct nft;

/* NULL (with the reason in err) when nft is missing or not permitted: faults=kernel then
 * stays off on this host. */
struct nft *nft_open(char *err, size_t errlen);
/* Replaces the rules. Returns 0 or CL_EIO with nft's own words in err. */
int nft_apply(struct nft *n, const json_t *rules, char *err, size_t errlen);
/* The counters: {"rules": {LINK: {"seen": packets, "dropped": packets}}, "seen": N,
 * "dropped": N}, both directions of each rule summed (caller frees). */
json_t *nft_counters(struct nft *n);
void nft_clear(struct nft *n);
/* Can this host's kernel delay, duplicate and reorder (tc netem on loopback, removed at
 * once)? 1, or 0 with why ("Specified qdisc kind is unknown." where netem is missing). */
int nft_netem_probe(char *why, size_t n);
void nft_close(struct nft **n);

#endif
