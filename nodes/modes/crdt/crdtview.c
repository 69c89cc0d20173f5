/* crdtview — a key's internal CRDT state as a small table the dashboard draws without knowing
 * the mode (the `state` member of a `digest` event; docs/dashboard.md "State of a watched key").
 *
 *   {"t": "pncounter", "cols": ["P", "N"],
 *    "rows": [["n1", "5", "0"], ["n2", "3", "0"], ["n3", "0", "1"]],
 *    "foot": [["removed", "n2:1 n2:2"]], "more": 0}
 *
 * rows: one entry of the state each — a G-Counter's or PN-Counter's per-replica components, a
 * set's element with the dots of the adds that keep it (OR-Set) or its tombstone (2P-Set), an
 * MV-Register's sibling with its version vector, an LWW-Register's value, stamp and writer, a
 * cart's item with its quantity and dotted increments. The first cell names the entry (the
 * dashboard lines entries up across nodes by it and marks those that differ); cols names the
 * other cells. foot: what the state keeps beside its entries (an OR-Set's or cart's removed
 * dots). more: entries left out. Bounded: at most CRDTVIEW_ROWS rows, CRDTVIEW_DOTS dots per
 * entry, cells of at most CRDTVIEW_CELL bytes (longer ones end in "…").
 *
 * Elements, items and register values are value texts (jtext.h: a client's 42 is the text 42,
 * its "42" the marked text \x02"42"): cells show them as a user reads them (jtext_show).
 * Pure: no environment, no I/O. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt.h"
#include "crdtview.h"
#include "jtext.h"

/* A cell: text cut to CRDTVIEW_CELL bytes at a UTF-8 boundary, "…" when cut. */
static json_t *cell(const char *s)
{
    size_t n = strlen(s);
    if (n <= CRDTVIEW_CELL)
        return json_string(s);
    size_t k = CRDTVIEW_CELL - 3;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    char buf[CRDTVIEW_CELL + 4];
    memcpy(buf, s, k);
    memcpy(buf + k, "…", 4);
    return json_stringn(buf, k + 3);
}

static const char *nm(const char (*names)[CL_IDLEN], int nodes, int i, char b[CL_IDLEN])
{
    if (names && i >= 0 && i < nodes && names[i][0])
        return names[i];
    snprintf(b, CL_IDLEN, "n%d", i + 1);
    return b;
}

static json_t *elem_cell(const char *e)
{
    return cell(jtext_show(e));
}

/* Appends " n1:3" when it fits a cell with room for a " +NNNN" after it; 0 when it does not. */
static int add_dot(struct sb *b, const char (*names)[CL_IDLEN], int nodes, struct crdt_dot d)
{
    char x[CL_IDLEN], t[48];
    int n = snprintf(t, sizeof t, "%s:%" PRIu64, nm(names, nodes, d.node, x), d.ctr);
    if (b->len + 1 + (size_t)n + 6 > CRDTVIEW_CELL)
        return 0;
    sb_printf(b, "%s%s", b->len ? " " : "", t);
    return 1;
}

json_t *crdtview_table(const struct crdt *c, int nodes, const char (*names)[CL_IDLEN])
{
    json_t *rows = json_array(), *foot = json_array(), *cols = json_array();
    size_t more = 0;
    char x[CL_IDLEN];
    if (nodes > CL_MAXN)
        nodes = CL_MAXN;
    switch (c->type) {
    case CRDT_GCOUNTER:
    case CRDT_PNCOUNTER:
        /* every replica's component while the cluster is small; past 8 nodes the non-zero ones */
        json_array_append_new(cols, json_string("P"));
        if (c->type == CRDT_PNCOUNTER)
            json_array_append_new(cols, json_string("N"));
        for (int i = 0; i < nodes; i++) {
            if (nodes > 8 && !c->p[i] && !c->n[i])
                continue;
            if (json_array_size(rows) >= CRDTVIEW_ROWS) {
                more++;
                continue;
            }
            json_t *r = json_pack("[s,I]", nm(names, nodes, i, x), (json_int_t)c->p[i]);
            if (c->type == CRDT_PNCOUNTER)
                json_array_append_new(r, json_integer((json_int_t)c->n[i]));
            json_array_append_new(rows, r);
        }
        /* cells are texts: the numbers as written */
        {
            size_t i, j;
            json_t *r, *v;
            json_array_foreach(rows, i, r)
                json_array_foreach(r, j, v)
                    if (json_is_integer(v))
                        json_array_set_new(r, j, json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        }
        break;
    case CRDT_GSET:
    case CRDT_2PSET: {
        /* added elements in order; a 2P-Set's removed ones stay, marked with their tombstone */
        if (c->type == CRDT_2PSET)
            json_array_append_new(cols, json_string("tombstone"));
        for (size_t i = 0; i < c->a.n; i++) {
            if (json_array_size(rows) >= CRDTVIEW_ROWS) {
                more++;
                continue;
            }
            json_t *r = json_array();
            json_array_append_new(r, elem_cell(c->a.v[i]));
            if (c->type == CRDT_2PSET) {
                int dead = 0;
                for (size_t j = 0; j < c->r.n && !dead; j++)
                    dead = !strcmp(c->r.v[j], c->a.v[i]);
                json_array_append_new(r, json_string(dead ? "removed" : ""));
            }
            json_array_append_new(rows, r);
        }
        break;
    }
    case CRDT_ORSET:
    case CRDT_CART: {
        /* one row per element: (cart: its quantity and) the dots of the adds that keep it */
        if (c->type == CRDT_CART)
            json_array_append_new(cols, json_string("qty"));
        json_array_append_new(cols, json_string("dots"));  /* a cart's: n1:3+2, the dot and its amount */
        for (size_t i = 0; i < c->ne;) {
            size_t j = i;
            int64_t qty = 0;
            struct sb d = {0};
            size_t shown = 0;
            while (j < c->ne && !strcmp(c->e[j].elem, c->e[i].elem)) {
                qty += c->e[j].amount;
                if (shown == j - i && shown < CRDTVIEW_DOTS && add_dot(&d, names, nodes, c->e[j].dot)) {
                    if (c->type == CRDT_CART)
                        sb_printf(&d, "%+" PRId64, c->e[j].amount);
                    shown++;
                }
                j++;
            }
            if (j - i > shown)
                sb_printf(&d, " +%zu", j - i - shown);
            if (json_array_size(rows) >= CRDTVIEW_ROWS) {
                more++;
            } else {
                json_t *r = json_array();
                json_array_append_new(r, elem_cell(c->e[i].elem));
                if (c->type == CRDT_CART)
                    json_array_append_new(r, json_sprintf("%" PRId64, qty));
                json_array_append_new(r, cell(d.s ? d.s : ""));
                json_array_append_new(rows, r);
            }
            sb_free(&d);
            i = j;
        }
        if (c->nd) {
            /* what removes dropped: the dots they observed (a remove takes those, and only those) */
            struct sb d = {0};
            size_t i = 0;
            while (i < c->nd && i < CRDTVIEW_DOTS && add_dot(&d, names, nodes, c->d[i]))
                i++;
            if (c->nd > i)
                sb_printf(&d, " +%zu", c->nd - i);
            json_array_append_new(foot, json_pack("[s,o]", "removed", cell(d.s)));
            sb_free(&d);
        }
        break;
    }
    case CRDT_LWW:
        if (c->value) {
            json_array_append_new(rows, json_pack("[s,o]", "value", cell(jtext_show(c->value))));
            json_array_append_new(rows, json_pack("[s,o]", "stamp",
                                                  json_sprintf("%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%06" PRIu64,
                                                               c->ts / 3600000000u % 24, c->ts / 60000000u % 60,
                                                               c->ts / 1000000u % 60, c->ts % 1000000u)));
            json_array_append_new(rows, json_pack("[s,s]", "writer", nm(names, nodes, c->node, x)));
        }
        break;
    case CRDT_MV:
        /* the siblings: concurrent values, each with the version vector of its write */
        json_array_append_new(cols, json_string("version vector"));
        for (size_t i = 0; i < c->nmv; i++) {
            if (json_array_size(rows) >= CRDTVIEW_ROWS) {
                more++;
                continue;
            }
            struct sb v = {0};
            vv_text(&c->mv[i].vv, nodes, names, &v);
            json_array_append_new(rows, json_pack("[o,o]", cell(jtext_show(c->mv[i].value)), cell(v.s ? v.s : "")));
            sb_free(&v);
        }
        break;
    case CRDT_NTYPES:
        break;
    }
    static const char *const about[CRDT_NTYPES] = {
        [CRDT_GCOUNTER] = "P: what each node added; value = the sum; a merge takes each node's maximum",
        [CRDT_PNCOUNTER] = "P: increments, N: decrements, per node; value = sum P - sum N; a merge takes each entry's maximum",
        [CRDT_GSET] = "every element ever added; a merge is the union",
        [CRDT_2PSET] = "a removed element keeps its tombstone and never comes back; a merge unions both sets",
        [CRDT_ORSET] = "each element lives by the dots (node:n) of adds no remove has seen; removed: the dots removes took "
                       "(an add they did not see survives: add wins)",
        [CRDT_LWW] = "the write with the highest stamp (the writer's clock), then node, wins",
        [CRDT_MV] = "the values no other write's version vector dominates: concurrent writes side by side",
        [CRDT_CART] = "item -> quantity: each add is a dotted increment; a remove takes the increments it saw, a "
                      "concurrent add keeps its own",
    };
    json_t *t = json_pack("{s:s,s:o,s:o}", "t", crdt_type_name(c->type), "cols", cols, "rows", rows);
    if (c->type < CRDT_NTYPES && about[c->type])
        json_object_set_new(t, "about", json_string(about[c->type]));
    if (json_array_size(foot))
        json_object_set_new(t, "foot", foot);
    else
        json_decref(foot);
    if (more)
        json_object_set_new(t, "more", json_integer((json_int_t)more));
    return t;
}

/* A value text back to its JSON value (a new reference). */
static json_t *decode(const json_t *v)
{
    json_t *d = json_is_string(v) ? jtext_decode(json_string_value(v)) : NULL;
    return d ? d : json_incref((json_t *)v);
}

json_t *crdtview_value(enum crdt_type t, json_t *q)
{
    if (!q)
        return NULL;
    if (json_is_string(q)) {     /* a register's one value */
        json_t *d = decode(q);
        json_decref(q);
        return d;
    }
    if (json_is_array(q) && t != CRDT_GCOUNTER && t != CRDT_PNCOUNTER) {
        /* a set's elements, an MV-Register's siblings */
        json_t *out = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(q, i, v)
            json_array_append_new(out, decode(v));
        json_decref(q);
        return out;
    }
    if (json_is_object(q)) {     /* a cart: item -> quantity; an item is named as a user reads it */
        json_t *out = json_object();
        const char *item;
        json_t *v;
        json_object_foreach(q, item, v)
            json_object_set(out, jtext_show(item), v);
        json_decref(q);
        return out;
    }
    return q;
}
