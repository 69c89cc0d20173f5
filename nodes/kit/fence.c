/* fence — see fence.h. A small array searched linearly: a lab run writes a handful of
 * resources, and the order of first writes is the order `status` shows them in. */
#include "fence.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void fence_init(struct fence *f, int on)
{
    memset(f, 0, sizeof *f);
    f->on = on;
}

void fence_free(struct fence *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->r[i].name);
        free(f->r[i].value);
        free(f->r[i].by);
    }
    free(f->r);
    f->r = NULL;
    f->n = f->cap = 0;
}

static struct fence_res *find(const struct fence *f, const char *resource)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->r[i].name, resource))
            return &f->r[i];
    return NULL;
}

const struct fence_res *fence_get(const struct fence *f, const char *resource)
{
    return resource ? find(f, resource) : NULL;
}

enum fence_outcome fence_write(struct fence *f, const char *resource, uint64_t token, const char *value,
                               const char *by, uint64_t *highest_before)
{
    if (highest_before)
        *highest_before = 0;
    if (!resource || !*resource)
        return FENCE_REFUSED;
    struct fence_res *r = find(f, resource);
    if (!r) {
        if (f->n == f->cap) {
            f->cap = f->cap ? 2 * f->cap : 8;
            f->r = xrealloc(f->r, f->cap * sizeof *f->r);
        }
        r = &f->r[f->n++];
        memset(r, 0, sizeof *r);
        r->name = xstrdup(resource);
    }
    if (highest_before)
        *highest_before = r->highest;
    enum fence_outcome o = FENCE_ACCEPTED;
    if (token < r->highest) {
        if (f->on) {
            r->refused++;
            return FENCE_REFUSED;
        }
        o = FENCE_STALE_ACCEPTED;
        r->stale_accepted++;
    } else {
        r->highest = token;
    }
    r->writes++;
    free(r->value);
    free(r->by);
    r->value = value ? xstrdup(value) : NULL;
    r->by = by ? xstrdup(by) : NULL;
    return o;
}

const char *fence_outcome_name(enum fence_outcome o)
{
    return o == FENCE_ACCEPTED ? "accepted" : o == FENCE_REFUSED ? "refused" : "accepted (stale token)";
}

json_t *fence_json(const struct fence *f)
{
    json_t *res = json_object();
    for (size_t i = 0; i < f->n; i++) {
        const struct fence_res *r = &f->r[i];
        json_object_set_new(res, r->name,
                            json_pack("{s:I,s:s?,s:s?,s:I,s:I,s:I}", "highest", (json_int_t)r->highest, "value",
                                      r->value, "by", r->by, "writes", (json_int_t)r->writes, "refused",
                                      (json_int_t)r->refused, "stale_accepted", (json_int_t)r->stale_accepted));
    }
    return json_pack("{s:b,s:o}", "fencing", f->on, "resources", res);
}
