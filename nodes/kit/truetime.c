/* truetime — see truetime.h. */
#include "truetime.h"

#include "env.h"

struct tt_interval tt_at(uint64_t pt, uint64_t eps)
{
    struct tt_interval i;
    i.earliest = pt > eps ? pt - eps : 0;
    i.latest = pt + eps < pt ? UINT64_MAX : pt + eps;
    return i;
}

struct tt_interval tt_now(struct env *e, uint64_t eps)
{
    return tt_at(env_now_us(e), eps);
}

int tt_after(uint64_t pt, uint64_t eps, uint64_t t)
{
    return tt_at(pt, eps).earliest > t;
}

int tt_before(uint64_t pt, uint64_t eps, uint64_t t)
{
    return tt_at(pt, eps).latest < t;
}

uint64_t tt_wait_us(uint64_t pt, uint64_t eps, uint64_t t)
{
    uint64_t e = tt_at(pt, eps).earliest;
    return e > t ? 0 : t - e + 1;
}
