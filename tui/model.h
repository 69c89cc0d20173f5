/* model — the dashboard model: pure C, no curses, no I/O (issue 6).
 *
 * Events (JSON objects, docs/protocol.md §3 plus the lab-made ones listed in dash.h) are
 * decoded by event.h and folded, one function per kind (a table), into a struct dm_state: per-node state, the recent messages with their fate
 * (pending / delivered / dropped), the replicated logs, election tallies, quorum results,
 * partitions and link faults, the lesson step and the REPL output. The `cluster` event
 * brings the mode's face (role → class, status figures), so a trace colours roles and shows
 * figures without knowing the mode. Panes only read a dm_state (render.h); they never see
 * events.
 *
 * Time travel. Every fed event is recorded (a reference is kept) in an array of at most
 * `cap` events. Every DM_CKPT_EVERY events a copy of the folded state is kept as a
 * checkpoint, so that any recorded position can be rebuilt by copying the checkpoint before
 * it and folding at most DM_CKPT_EVERY events. When the array is full the oldest chunk of
 * events and its checkpoint are let go: time travel then reaches back to the oldest kept
 * checkpoint, while the live state still holds everything.
 *
 *   live  ──dm_freeze──▶ frozen (view = state at cursor) ──dm_seek──▶ frozen
 *     ▲                                                              │
 *     └──────────────────────────── dm_thaw ◀──────────────────────────┘
 *
 * Positions are absolute: position p means "after the first p events of the run".
 * Invariants: first_pos <= cursor <= count; the live state is the fold of all count events;
 * when frozen, the view is the fold of the first `cursor` events.
 */
#ifndef CONLAB_MODEL_H
#define CONLAB_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "util.h"

#define DM_MAX_MSGS 1024     /* recent messages kept for the sequence diagram */
#define DM_MAX_ELECTIONS 8   /* recent election tallies */
#define DM_MAX_QUORUMS 8     /* recent quorum results */
#define DM_MAX_OUTPUT 500    /* REPL output lines kept */
#define DM_MAX_LOG 200       /* log entries kept per node */
#define DM_MAX_LINKS 64      /* link faults */
#define DM_MAX_ALERTS 8      /* invariant alerts and checker verdicts */
#define DM_CKPT_EVERY 4096   /* events between time-travel checkpoints */
#define DM_DEFAULT_CAP 200000 /* events kept for time travel */
#define DM_MAX_TEXT 256      /* longest command kept per log entry (output lines: 4×, lesson text: 16×) */
#define DM_MAX_ROLES 16      /* roles in the cluster's role → class table */
#define DM_MAX_FIGS 6        /* status figures on a node card */
#define DM_MAX_ORPHANS 32    /* arrivals kept until their send event comes in */
#define DM_WROWS 16          /* entries of a watched key's state kept per node (rows + foot) */
#define DM_WCELLS 3          /* cells after an entry's name */
#define DM_WCONV 8           /* moments of convergence remembered (newest per key) */

enum dm_life { DM_UNKNOWN = 0, DM_UP, DM_DOWN, DM_PAUSED };
enum dm_msg_state { DM_PENDING = 0, DM_DELIVERED, DM_DROPPED };

struct dm_entry {
    uint64_t index, term;
    char *cmd; /* owned; NULL when only known from an append event */
};

#define DM_CURVE_ROUNDS 48

struct dm_node {
    char id[CL_IDLEN];
    char role[24];        /* "leader", "follower", "candidate", a mode's own, or "" */
    enum role_class rclass; /* the role's class, from the cluster's role table (colours) */
    char card[64];        /* the mode's status figures for the node card: "c12 a12" */
    char card_wide[96];   /* the same in words for a wide card: "commit 12  applied 12" */
    char watch[96];       /* its state of the watched key (`watch KEY`), from its newest digest */
    char figval[DM_MAX_FIGS][24]; /* each figure's last value from a status, "" = none */
    bool has_term, has_epoch;
    uint64_t term, epoch;
    char leader[CL_IDLEN];
    uint64_t commit, applied;
    enum dm_life life;
    bool has_clock;
    uint64_t clock_us;    /* its skewed physical clock, from status */
    int64_t skew_us;      /* injected skew, from skew faults */
    uint64_t lamport;
    int nvc;
    uint64_t vc[CL_MAXNODES];
    struct dm_entry *log; /* owned, sorted by index, at most DM_MAX_LOG */
    bool has_hlc;
    uint64_t hlc_l, hlc_c;  /* its hybrid logical clock, from status ("hlc":[l,c]) */
    size_t nlog;
    /* its clock against true time, from status: offset (skew, drift, NTP), drift, NTP on */
    bool has_offset, ntp;
    int64_t offset_us, drift_ppm;
    /* TrueTime where the mode keeps it (status "truetime"): [earliest, latest] and ε */
    bool has_tt;
    uint64_t tt_earliest, tt_latest, tt_eps_us;
};

/* One entry of a node's state of the watched key (a `digest` event's "state" table): its name,
 * its cells, and whether it is a footer line (what the state keeps beside its entries). */
struct dm_wrow {
    char key[44];
    char cell[DM_WCELLS][44];
    bool foot;
};

/* A node's newest state of the watched key (`watch KEY`), from its newest `digest` of it. */
struct dm_wnode {
    bool has;
    char type[16];          /* the table's "t": "pncounter" */
    char value[64];         /* the value, compact JSON ("" when the digest did not carry it) */
    char ctx[64];           /* the causal context: the updates its state includes */
    char why[48];           /* what changed it ("merge from n2 (delta)") */
    char about[160];        /* what the type's entries mean (the table's "about") */
    uint64_t t;             /* when */
    int nrows;
    struct dm_wrow rows[DM_WROWS];
    int more;               /* entries the node left out */
    char cols[DM_WCELLS][16]; /* the cells' names */
    int ncols;
};

struct dm_msg {
    uint64_t pos;         /* absolute event position of its first event */
    uint64_t t_send, t_end;
    char src[CL_IDLEN], dst[CL_IDLEN];
    char type[32];
    int64_t msg_id;       /* -1 when absent */
    enum dm_msg_state st;
    char why[32];         /* drop reason */
    json_t *ev;           /* owned reference to the send (or drop) event */
};

struct dm_vote {
    char voter[CL_IDLEN];
    int granted;          /* 1 granted, 0 denied */
    char reason[64];
};

struct dm_election {
    uint64_t term;
    char candidate[CL_IDLEN];
    int nvotes;
    struct dm_vote votes[CL_MAXNODES];
};

struct dm_quorum {
    char op[16];
    char key[64];
    int need;
    uint32_t acked, missing, stale; /* bit i = node i */
    uint64_t t;
};

struct dm_link {
    int src, dst;         /* node index, -1 = every node */
    uint64_t delay_ms;
    double loss_pct;
    uint64_t kbps;        /* bandwidth, 0 = unlimited */
    uint64_t queued;      /* messages queued on it (the sender's last `queue` event) */
};

struct dm_lesson {
    bool active;
    char *title, *step, *text, *check, *hint; /* owned, may be NULL */
};

struct dm_alert {
    uint64_t pos;
    char *text;           /* owned */
};

/* One role of the cluster's mode and its class (from the `cluster` event). */
struct dm_role {
    char role[24];
    enum role_class cls;
};

/* One status figure shown on node cards: the status key (a dotted path) and its card label. */
struct dm_figure {
    char key[32];
    char card[12];              /* short form on a narrow card: "c" */
    char label[24];             /* words on a wide card: "commit" */
    bool grid;                  /* shown in each cell of the compact node grid */
};

/* The folded state. Fields are read by the renderer; only model.c writes them. */
struct dm_state {
    char mode[32];
    struct dm_role roles[DM_MAX_ROLES]; /* empty: a role named like a class has that class */
    int nroles;
    struct dm_figure figs[DM_MAX_FIGS]; /* default: commit "c", applied "a" */
    int nfigs;
    bool running;
    int n;                        /* nodes */
    struct dm_node node[CL_MAXNODES];
    int group_of[CL_MAXNODES];        /* partition group per node; all 0 when healed */
    int ngroups;                  /* 0 or 1 = no partition */
    struct dm_link links[DM_MAX_LINKS];
    int nlinks;
    struct dm_msg msgs[DM_MAX_MSGS]; /* ring */
    size_t msg_head, nmsgs;       /* oldest at msg_head */
    struct dm_election elections[DM_MAX_ELECTIONS]; /* ring, newest last */
    int nelections;
    struct dm_quorum quorums[DM_MAX_QUORUMS];       /* ring, newest last */
    int nquorums;
    char *output[DM_MAX_OUTPUT];  /* ring of owned lines */
    size_t out_head, nout;
    struct dm_alert alerts[DM_MAX_ALERTS];          /* newest last */
    int nalerts;
    /* the moments of convergence the mode's monitor marked (`converged` events from the lab) */
    int nconverged;
    uint64_t converged_t;         /* the newest one's time */
    char converged_key[64];       /* and its key */
    char watch_key[64];           /* `watch KEY`: the key the node cards draw ("" none) */
    struct dm_wnode wst[CL_MAXN]; /* each node's state of the watched key (the first CL_MAXN nodes) */
    struct dm_conv {              /* the newest moment of convergence of each of a few keys */
        char key[64];
        uint64_t t;
        int64_t after_ms;         /* since the divergence was seen (-1 unknown) */
    } conv[DM_WCONV];
    int nconv;
    /* the infection curve of the newest rumor (`rumor` then `infect` events with a round):
     * nodes newly infected in each round, and the cluster's spreading options for the
     * theoretical curve beside it */
    char curve_rumor[48];
    int curve_new[DM_CURVE_ROUNDS];
    int curve_rounds;             /* rounds seen (highest round + 1) */
    int curve_fanout;             /* the cluster's fanout= option (default 1) */
    char curve_style[12];         /* its style= option ("push" by default) */
    struct dm_lesson lesson;
    uint64_t t_last;              /* t of the newest event, µs since run start */
    uint64_t events;              /* events folded into this state */
    uint64_t drops, bad_events;
    double speed;                 /* the lab's speed factor, from options / speed events */
    /* Arrivals seen before their send: the lab gets each node's events on its own stream, so
     * a receiver's `recv` may come in before the sender's `send`; the send then finds it here
     * and is drawn delivered (ring of DM_MAX_ORPHANS, oldest overwritten). */
    struct dm_orphan {
        char src[CL_IDLEN], dst[CL_IDLEN];
        char type[32];
        int64_t msg_id;
        uint64_t t;
    } orphans[DM_MAX_ORPHANS];
    int norphans, orphan_next;
};

struct dm;

/* A model recording at most cap events for time travel (0 = DM_DEFAULT_CAP). Caller owns;
 * free with dm_destroy. */
struct dm *dm_new(size_t cap);
/* Frees the model and NULLs *m. */
void dm_destroy(struct dm **m);

/* Folds one event into the live state and records it (takes its own reference). Bad events
 * (not an object, no "ev") are counted, recorded and otherwise ignored. Returns 0, or
 * CL_EINVAL for a bad event. */
int dm_feed(struct dm *m, json_t *ev);

/* The state the panes should draw: the live state, or the view at the cursor when frozen.
 * Borrowed until the next dm_* call that changes the model. */
const struct dm_state *dm_view(const struct dm *m);
const struct dm_state *dm_live(const struct dm *m);

bool dm_frozen(const struct dm *m);
void dm_freeze(struct dm *m);             /* view = live at the current count */
void dm_thaw(struct dm *m);               /* back to live */
/* Moves the time-travel cursor (freezes if live), clamped to [dm_first_pos, dm_count]. */
void dm_seek(struct dm *m, uint64_t pos);
uint64_t dm_cursor(const struct dm *m);   /* == dm_count when live */
uint64_t dm_count(const struct dm *m);    /* events fed */
uint64_t dm_first_pos(const struct dm *m);/* oldest position time travel can reach */
/* The recorded event at absolute position pos (the pos+1-th event), or NULL when it is no
 * longer (or not yet) recorded. Borrowed. */
json_t *dm_event_at(const struct dm *m, uint64_t pos);

/* Does the event match the filter? An empty or NULL filter matches all; otherwise each
 * space-separated word must occur (case-insensitively) in the event's one-line form, and a
 * word "ev=NAME" matches the event type exactly. */
bool dm_event_matches(const json_t *ev, const char *filter);
/* Writes the one-line form of an event ("  1.234s n1 state leader term=3") into b, escaped
 * so that it can never drive a terminal. */
void dm_event_line(const json_t *ev, struct sb *b);
/* Is this event an alert (invariant violation, checker verdict, error)? */
bool dm_event_is_alert(const json_t *ev);
/* Is it a mark of good news the dashboard highlights (a `converged` event from the lab)? */
bool dm_event_is_mark(const json_t *ev);

/* Helpers for the renderer. */
int dm_node_index(const struct dm_state *s, const char *id); /* -1 when unknown */
const struct dm_msg *dm_msg_at(const struct dm_state *s, size_t i); /* 0 = oldest */
const char *dm_output_at(const struct dm_state *s, size_t i);       /* 0 = oldest */

#endif
