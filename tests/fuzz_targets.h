/* fuzz_targets — the bodies of the fuzz targets, shared by the libFuzzer entry points
 * (tests/fuzz_envelope.c, tests/fuzz_cmdline.c, built by `make fuzz`) and by the Check suite
 * that replays tests/corpus/ without a fuzzing engine (tests/check_corpus.c).
 *
 * Each returns NULL when the input was handled correctly — accepted, or refused with a
 * message — and otherwise a static string naming the broken property. Crashes, leaks and
 * out-of-bounds reads are left to the sanitizers. */
#ifndef CONLAB_FUZZ_TARGETS_H
#define CONLAB_FUZZ_TARGETS_H

#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
#include "envelope.h"
#include "event.h"
#include "faults.h"
#include "mode.h"
#include "sim.h"
#include "storage.h"
#include "util.h"

/* envelope_decode: an accepted frame re-encodes to one that decodes to the same envelope; a
 * refused frame leaves the output empty and says why. */
static inline const char *fuzz_envelope_one(const uint8_t *data, size_t size)
{
    struct envelope e, e2;
    char err[256] = "";
    if (envelope_decode(data, size, &e, err, sizeof err) < 0) {
        if (!err[0])
            return "refused without a reason";
        if (e.body || e.src[0] || e.dest[0])
            return "refused but left output behind";
        return NULL;
    }
    const char *bad = NULL;
    if (!envelope_valid_id(e.src) || !envelope_valid_id(e.dest) || !envelope_type(&e)[0])
        bad = "accepted an invalid id or an empty type";
    size_t len;
    char *s = envelope_encode(&e, &len);
    if (!bad && len <= ENVELOPE_MAX_BYTES) {
        err[0] = 0;
        if (envelope_decode(s, len, &e2, err, sizeof err) < 0) {
            bad = "its own encoding was refused";
        } else {
            if (strcmp(e.src, e2.src) || strcmp(e.dest, e2.dest) || e.lamport != e2.lamport ||
                e.inc != e2.inc || e.vc_n != e2.vc_n || e.hlc_l != e2.hlc_l || e.hlc_c != e2.hlc_c ||
                memcmp(e.vc, e2.vc, sizeof e.vc) || !json_equal(e.body, e2.body))
                bad = "the round trip changed the envelope";
            envelope_clear(&e2);
        }
    }
    free(s);
    envelope_clear(&e);
    return bad;
}

/* event_decode: any JSON value is either refused with a reason and nothing left behind, or
 * decoded into a kind that matches its name, with every borrowed pointer inside the value
 * (the sanitizers check the reads), and folds into a node's view without breaking it. */
static inline const char *fuzz_event_one(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
    if (!j)
        return NULL; /* not JSON: the trace loader's and the collector's business */
    struct event e;
    char err[256] = "";
    const char *bad = NULL;
    if (event_decode(j, &e, err, sizeof err) < 0) {
        if (!err[0])
            bad = "refused without a reason";
        else if (e.name || e.node || e.json || e.kind != EV_OTHER)
            bad = "refused but left output behind";
    } else {
        if (!e.name || e.json != j)
            bad = "accepted without a name";
        else if (event_kind_of(e.name) != e.kind)
            bad = "the kind does not match the name";
        else if (e.kind == EV_SEND && !e.msg.type)
            bad = "a message without a type string";
        struct ev_view v = {0};
        if (e.kind == EV_STATE || e.kind == EV_STATUS)
            event_view_fold(&v, &e.state, e.kind == EV_STATUS);
        if (!bad && strnlen(v.role, sizeof v.role) == sizeof v.role)
            bad = "the folded role is not terminated";
        if (!bad && strnlen(v.leader, sizeof v.leader) == sizeof v.leader)
            bad = "the folded leader is not terminated";
    }
    json_decref(j);
    return bad;
}

/* cmdline_split + cmdline_words: commands are non-empty, words are bounded and terminated,
 * every refusal says why, and escaping any word gives terminal-safe text. */
static inline const char *fuzz_cmdline_one(const uint8_t *data, size_t size)
{
    char *line = xmalloc(size + 1);
    memcpy(line, data, size);
    line[size] = 0;
    char *cmds[16];
    char err[256] = "";
    const char *bad = NULL;
    int n = cmdline_split(line, cmds, 16, err, sizeof err);
    if (n < 0 && !err[0])
        bad = "split refused without a reason";
    for (int i = 0; i < n; i++) {
        if (!bad && !cmds[i][0])
            bad = "an empty command";
        struct words w;
        err[0] = 0;
        if (cmdline_words(cmds[i], &w, err, sizeof err) < 0) {
            if (!bad && !err[0])
                bad = "words refused without a reason";
        } else {
            if (!bad && (w.argc > CMDLINE_MAX_WORDS || w.argv[w.argc]))
                bad = "words not terminated";
            for (int k = 0; k < w.argc && !bad; k++) {
                struct sb b = {0};
                sb_add_escaped(&b, w.argv[k], strlen(w.argv[k]));
                for (const unsigned char *p = (const unsigned char *)b.s; *p; p++)
                    if (*p < 0x20 || *p == 0x7f)
                        bad = "escaping left a control byte";
                sb_free(&b);
            }
            words_free(&w);
        }
        free(cmds[i]);
    }
    free(line);
    return bad;
}

/* The number parsers: whatever they accept is in range and canonical where the grammar is
 * (a node id prints back as itself; an integer reparses to the same value). */
static inline const char *fuzz_parse_one(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    const char *bad = NULL;
    char buf[64];
    int64_t i;
    if (parse_i64(s, &i) == 0) {
        int64_t j;
        snprintf(buf, sizeof buf, "%lld", (long long)i);
        if (parse_i64(buf, &j) < 0 || i != j)
            bad = "parse_i64 result does not reparse";
    }
    uint64_t u;
    if (!bad && parse_u64(s, &u) == 0 && (s[0] == '-' || s[0] == '+'))
        bad = "parse_u64 accepted a sign";
    double d;
    if (!bad && parse_double(s, &d) == 0 && !isfinite(d))
        bad = "parse_double accepted a non-finite value";
    if (!bad && parse_duration_us(s, &u) == 0 && u > 1000000000000000ull)
        bad = "parse_duration_us accepted more than 1e15 us";
    if (!bad && parse_percent(s, &d) == 0 && !(d >= 0 && d <= 100))
        bad = "parse_percent out of 0..100";
    int idx;
    if (!bad && parse_node_id(s, CL_MAXNODES, &idx) == 0) {
        char name[CL_IDLEN];
        node_name(idx, name);
        if (idx < 0 || idx >= CL_MAXNODES || strcmp(name, s))
            bad = "parse_node_id accepted a non-canonical id";
    }
    if (!bad) {
        int dist = str_distance(s, "partition");
        if (dist < 0 || dist > 100)
            bad = "str_distance out of range";
    }
    free(s);
    return bad;
}

static inline int fuzz_same_cuts(const struct faults *a, const struct faults *b)
{
    return a->n == b->n && !memcmp(a->cut, b->cut, sizeof a->cut);
}

/* Partition specs and fault-rule JSON. First byte: bit 7 set = the rest is JSON rules,
 * otherwise the rest is a partition spec for 1 + (byte % 16) nodes. An accepted spec cuts
 * symmetrically, never a node from itself, and its description parses back to the same cuts;
 * a refused one says why and changes nothing. Accepted rules survive to_json/from_json. */
static inline const char *fuzz_faults_one(const uint8_t *data, size_t size)
{
    if (size == 0)
        return NULL;
    const char *bad = NULL;
    char err[256] = "";
    /* two of them are 1.6 MB: on the heap (valgrind takes a frame over 2 MB for a stack switch) */
    struct faults *fg = xcalloc(3, sizeof *fg), *pf = &fg[0], *pg = &fg[1], *pbefore = &fg[2];
    if (data[0] & 0x80) {
        json_error_t je;
        json_t *j = json_loadb((const char *)data + 1, size - 1, 0, &je);
        if (!j) {
            free(fg);
            return NULL;
        }
        if (faults_from_json(j, pf, err, sizeof err) < 0) {
            if (!err[0])
                bad = "rules refused without a reason";
        } else {
            for (int a = 0; a < pf->n && !bad; a++)
                for (int b = 0; b < pf->n && !bad; b++) {
                    const struct link_fault *l = &pf->link[a][b];
                    if (!(l->loss >= 0 && l->loss <= 1 && l->dup >= 0 && l->dup <= 1 &&
                          l->reorder >= 0 && l->reorder <= 1))
                        bad = "a probability outside [0, 1]";
                    else if (l->delay_us > FAULTS_MAX_DELAY_US || l->jitter_us > FAULTS_MAX_DELAY_US)
                        bad = "a delay or jitter out of bounds";
                    else if (l->kbps > FAULTS_MAX_KBPS)
                        bad = "a bandwidth out of bounds";
                }
            json_t *back = faults_to_json(pf);
            if (!bad && (faults_from_json(back, pg, err, sizeof err) < 0 || !fuzz_same_cuts(pf, pg) ||
                         memcmp(pf->link, pg->link, sizeof pf->link)))
                bad = "rules changed through to_json/from_json";
            json_decref(back);
        }
        json_decref(j);
        free(fg);
        return bad;
    }
    char *spec = xmalloc(size);
    memcpy(spec, data + 1, size - 1);
    spec[size - 1] = 0;
    faults_init(pf, 1 + data[0] % 16);
    *pbefore = *pf;
    if (faults_partition(pf, spec, err, sizeof err) < 0) {
        if (!err[0])
            bad = "spec refused without a reason";
        else if (memcmp(pf, pbefore, sizeof *pf))
            bad = "a refused spec changed the faults";
    } else {
        int cuts = 0;
        for (int a = 0; a < pf->n && !bad; a++)
            for (int b = 0; b < pf->n; b++) {
                cuts += pf->cut[a][b];
                if (pf->cut[a][b] != pf->cut[b][a] || (a == b && pf->cut[a][b]))
                    bad = "an asymmetric or self cut";
            }
        if (!bad && !cuts)
            bad = "an accepted spec cut nothing";
        struct sb desc = {0};
        faults_describe(pf, &desc);
        faults_init(pg, pf->n);
        if (!bad && (faults_partition(pg, desc.s ? desc.s : "", err, sizeof err) < 0 || !fuzz_same_cuts(pf, pg)))
            bad = "the description does not parse back to the same partition";
        sb_free(&desc);
    }
    free(spec);
    free(fg);
    return bad;
}

struct fuzz_log {
    size_t records, bytes;
};

static inline void fuzz_log_count(void *ud, const void *data, size_t len)
{
    (void)data;
    struct fuzz_log *c = ud;
    c->records++;
    c->bytes += STORAGE_HEADER + len;
}

static inline int fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, data, size) == (ssize_t)size;
    close(fd);
    return ok ? 0 : -1;
}

/* Arbitrary bytes as a record log left by a crash, then as a blob. The log: opening either
 * keeps a valid prefix, cuts the file to exactly that prefix (reporting the cut) and a second
 * open finds the same records — or refuses with a message naming the file, leaving it as it
 * was. The blob: accepted exactly when it is one whole valid record; else refused by name. */
static inline const char *fuzz_storage_one(const uint8_t *data, size_t size, const char *dir)
{
    char *path = xasprintf("%s/fz.log", dir);
    if (fuzz_write_file(path, data, size) < 0) {
        free(path);
        return "cannot write the test file";
    }
    const char *bad = NULL;
    char err[512] = "";
    struct fuzz_log c1 = {0, 0}, c2 = {0, 0};
    struct stat st;
    struct storage *s = storage_open(dir, 0, err, sizeof err);
    if (!s) {
        if (!strstr(err, "fz.log") || !strstr(err, "offset"))
            bad = "a refusal that does not name the file and offset";
        else if (stat(path, &st) < 0 || (size_t)st.st_size != size)
            bad = "a refused log was changed";
    } else {
        const struct storage_repair *rep;
        int nrep = storage_repairs(s, &rep);
        if (storage_log_read(s, "fz", fuzz_log_count, &c1) != (long)c1.records)
            bad = "read failed";
        else if (stat(path, &st) < 0 || (size_t)st.st_size != c1.bytes || c1.bytes > size)
            bad = "the file was not cut to its valid prefix";
        else if ((c1.bytes < size) != (nrep == 1) ||
                 (nrep == 1 && (rep[0].offset != c1.bytes || rep[0].bytes != size - c1.bytes)))
            bad = "a cut not reported exactly";
        storage_close(&s);
        if (!bad) {
            s = storage_open(dir, 0, err, sizeof err);
            if (!s || storage_log_read(s, "fz", fuzz_log_count, &c2) < 0 || c2.records != c1.records)
                bad = "a second open found different records";
            storage_close(&s);
        }
    }
    unlink(path);
    free(path);
    if (bad)
        return bad;
    path = xasprintf("%s/fz.blob", dir);
    if (fuzz_write_file(path, data, size) < 0) {
        free(path);
        return "cannot write the test file";
    }
    int whole = 0;
    if (size >= STORAGE_HEADER) {
        unsigned char h[STORAGE_HEADER];
        storage_record_header(h, data + STORAGE_HEADER, size - STORAGE_HEADER);
        whole = !memcmp(h, data, STORAGE_HEADER);
    }
    err[0] = 0;
    s = storage_open(dir, 0, err, sizeof err);
    if (!s != !whole) {
        bad = whole ? "a valid blob was refused" : "a damaged blob was accepted";
    } else if (!s && !strstr(err, "fz.blob")) {
        bad = "a blob refusal that does not name the file";
    } else if (s) {
        char *d = NULL;
        size_t n = 0;
        if (storage_blob_get(s, "fz", &d, &n) < 0 || n != size - STORAGE_HEADER ||
            memcmp(d, data + STORAGE_HEADER, n))
            bad = "a valid blob read back different";
        free(d);
    }
    storage_close(&s);
    unlink(path);
    free(path);
    return bad;
}

/* A peer message body to every mode that handles its type: a 3-node simulated cluster of the
 * mode gets it from n2 at n1, runs 50 ms, and n1 must still be up and answer status. A body
 * a mode cannot read is dropped with an error event; never a crash (the sanitizers judge). */
static inline const char *fuzz_peermsg_one(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    const char *type = json_string_value(json_object_get(body, "type"));
    const char *bad = NULL;
    for (int i = 0; type && mode_table[i] && !bad; i++) {
        const struct mode *m = mode_table[i];
        int handles = 0;
        for (const struct mode_handler *h = m->handlers; h && h->type; h++)
            handles |= !strcmp(h->type, type);
        char err[256];
        struct sim *s = handles ? sim_new(m, 3, NULL, 1, err, sizeof err) : NULL;
        if (!s)
            continue;
        sim_run_for(s, 20000);
        sim_client_send(s, 0, "n2", json_deep_copy(body));
        sim_run_for(s, 50000);
        json_t *st = sim_status(s, 0);
        if (sim_node_state(s, 0) != SIM_UP || !json_is_object(st))
            bad = "a node stopped answering after a peer message";
        json_decref(st);
        sim_destroy(&s);
    }
    json_decref(body);
    return bad;
}

#endif
