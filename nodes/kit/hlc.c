/* hlc — see hlc.h. */
#include "hlc.h"

#include <inttypes.h>

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a > b ? a : b;
    return m > c ? m : c;
}

struct hlc hlc_send(struct hlc *h, uint64_t pt)
{
    uint64_t l = h->l > pt ? h->l : pt;
    h->c = l == h->l ? h->c + 1 : 0;
    h->l = l;
    return *h;
}

struct hlc hlc_recv(struct hlc *h, struct hlc m, uint64_t pt)
{
    uint64_t l = max3(h->l, m.l, pt);
    uint64_t c;
    if (l == h->l && l == m.l)
        c = (h->c > m.c ? h->c : m.c) + 1;
    else if (l == h->l)
        c = h->c + 1;
    else if (l == m.l)
        c = m.c + 1;
    else
        c = 0;
    h->l = l;
    h->c = c;
    return *h;
}

int hlc_cmp(struct hlc a, struct hlc b)
{
    if (a.l != b.l)
        return a.l < b.l ? -1 : 1;
    if (a.c != b.c)
        return a.c < b.c ? -1 : 1;
    return 0;
}

uint64_t hlc_pack(struct hlc h)
{
    return h.l * 1000 + (h.c > 999 ? 999 : h.c);
}

struct hlc hlc_unpack(uint64_t packed)
{
    struct hlc h = {packed / 1000, packed % 1000};
    return h;
}

void hlc_text(struct hlc h, struct sb *out)
{
    sb_printf(out, "%" PRIu64 ".%03" PRIu64 "+%" PRIu64, h.l / 1000, h.l % 1000, h.c);
}
