/* fixture — the one test fixture for every mode: a simulated cluster (sim.h) with simulated
 * clients (simclient.h), the recorder (recorder.h) holding every invoke and completion, the
 * linearizability checker (lincheck.h) over that history, and the mode's own live invariant
 * monitor (mode->monitor) fed every event. After every simulator step the fixture checks the
 * monitor's verdict and runs the test's own step check; the first failure stops the run and is
 * kept in f->fail, which FIXTURE_OK reports with the seed, so that `seed=S` replays it.
 *
 *     struct fixture *f = fixture_new(&mode_raft, 3, "prevote=on", 7);
 *     int p = fixture_invoke(f, 0, "write", "x", "1", NULL);
 *     ck_assert_int_eq(fixture_await(f, p, 2000000), SIMOP_OK);
 *     FIXTURE_OK(f);
 *     fixture_free(&f);
 *
 * Clients: fixture_invoke() and fixture_send() start an operation on a fresh process (as a new
 * client), fixture_await() runs until it ends; with fixture_direct() operations do not follow
 * redirects or retry (a refusal is the outcome); the simclient in f->c can also be driven
 * directly, process by process. Events: fixture_keep() keeps copies of the named events for
 * fixture_find()/fixture_count(); fixture_watch() adds the test's own event and step hooks.
 * Set FIXTURE_TRACE=1 to print every event but send/recv/timer (2: all of them).
 */
#ifndef CONLAB_FIXTURE_H
#define CONLAB_FIXTURE_H

#include <check.h>
#include <jansson.h>
#include <stdint.h>

#include "mode.h"
#include "recorder.h"
#include "sim.h"
#include "simclient.h"

struct fixture {
    struct sim *s;
    struct simclient *c;
    struct recorder rec;        /* the history: every invoke and completion */
    json_t *history;            /* the same records as a JSON array (borrowed) */
    const struct mode *mode;
    void *mon;                  /* mode->monitor's state, or NULL when it has none */
    int use_monitor;            /* feed the monitor (1 when the mode has one) */
    int n;
    uint64_t seed;
    char fail[1024];            /* the first failure, or "" */
    struct sb alert;
    json_t *events;             /* copies of the kept events, in order */
    const char *const *keep;    /* the event names kept (NULL-terminated), or NULL */
    void (*on_event)(void *ud, const json_t *ev);
    void (*on_step)(void *ud);
    void *ud;
    int trace;
    int direct;                 /* new processes do not follow redirects */
    int next_p;                 /* the next fresh process */
    int quiet;                  /* no event callback at all */
};

/* A cluster of n nodes of mode m with options "k=v k=v" and seed. Fails the test (with the
 * reason) when the options are refused; fixture_try_new() returns NULL and fills err instead. */
struct fixture *fixture_new(const struct mode *m, int n, const char *optstr, uint64_t seed);
struct fixture *fixture_try_new(const struct mode *m, int n, const char *optstr, uint64_t seed,
                                char *err, size_t errlen);
void fixture_free(struct fixture **f);
/* Records the first failure (later ones are dropped). */
void fixture_failf(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hooks: on_event sees every event (after the monitor), on_step runs after every step. */
void fixture_watch(struct fixture *f, void (*on_event)(void *ud, const json_t *ev),
                   void (*on_step)(void *ud), void *ud);
/* Keeps copies of the events named in names (NULL-terminated; the array must outlive f). */
void fixture_keep(struct fixture *f, const char *const *names);
/* No events are built at all from now on (no monitor, no hooks): for speed figures. */
void fixture_events_off(struct fixture *f);
/* The first kept event ev (of node, when not NULL), or NULL (borrowed). */
const json_t *fixture_find(const struct fixture *f, const char *node, const char *ev);
/* Kept events ev whose field equals value (field NULL: all of them). */
int fixture_count(const struct fixture *f, const char *ev, const char *field, const char *value);

/* Runs us of virtual time in 1 ms slices: checks after every step, client ticks between
 * slices. Stops early on a failure. */
void fixture_run(struct fixture *f, uint64_t us);
/* Runs until pred holds (checked after every step) or us pass; 1 when it held. */
int fixture_run_until(struct fixture *f, uint64_t us, int (*pred)(void *ud), void *ud);

/* New operations do not follow redirects or retry (1), or do (0, the default). */
void fixture_direct(struct fixture *f, int direct);
/* Starts an operation on a fresh process; returns the process. */
int fixture_invoke(struct fixture *f, int node, const char *fn, const char *key, const char *value,
                   const char *to);
/* Starts a request of the caller's making (steals body) on a fresh process; returns it. */
int fixture_send(struct fixture *f, int node, json_t *body);
/* Runs until process p's operation ends, or max_us passes: then it ends as info (timeout). */
enum simop_outcome fixture_await(struct fixture *f, int p, uint64_t max_us);
/* fixture_send + fixture_await; a copy of the reply (caller frees), or NULL when none came. */
json_t *fixture_call(struct fixture *f, int node, json_t *body, uint64_t max_us);

/* Judges the recorded history with the linearizability checker (kv model, key by key).
 * Returns 1 when linearizable; else 0 with the checker's report in why. */
int fixture_linearizable(struct fixture *f, char *why, size_t whylen);

#define FIXTURE_OK(f)                                                                        \
    ck_assert_msg(!(f)->fail[0], "seed %llu: %s", (unsigned long long)(f)->seed, (f)->fail)

#endif
