/* etcdload — a small load generator and election timer for etcd 3.4, the yardstick that
 * lab/bench/etcd_vs_conlab.sh sets beside `conlab bench`. Standalone: plain POSIX sockets, no
 * library beyond libc, one thread, one poll() loop. Not part of `make all` or `make check`.
 *
 *   etcdload put   --endpoints URL[,URL...] [--clients C] [--seconds S] [--keys K]
 *                  [--nodes N] [--spread] [--json]
 *       C closed-loop clients, one HTTP/1.1 keep-alive connection each, each sending
 *       `POST /v3/kv/put` to etcd's JSON gRPC gateway (key and value base64 encoded) and the
 *       next put as soon as the previous reply is in, for S seconds over K keys. Every client
 *       talks to the first endpoint (the script puts the leader first, as conlab's gateway
 *       sends to the leader) unless --spread deals them round-robin over all endpoints.
 *       Prints the fields of `conlab bench --json`: mode "etcd", nodes, clients, seconds,
 *       ops, failed, throughput, p50_ms, p99_ms.
 *
 *   etcdload elect --endpoints URL[,URL...] --kill PID --term T [--timeout-ms MS]
 *       Reads the clock, SIGKILLs PID (the current leader, found by the caller), then polls
 *       `POST /v3/maintenance/status` on every endpoint (the survivors) every 2 ms until one
 *       reports a leader with a raft term above T. Prints the milliseconds from the kill to
 *       that answer; exits 1 if none came within the timeout.
 *
 *   etcdload status --endpoints URL[,URL...]
 *       One line per endpoint: URL member_id leader raft_term (or URL down).
 *
 * Replies are parsed as HTTP/1.1: status line, headers, then a body framed by Content-Length,
 * by chunked transfer coding, or by the end of the connection. A put counts as done when the
 * status is 200 and the body carries a "header" and no "error"; anything else counts as failed
 * and the client reconnects. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENDPOINTS 16
#define MAX_CLIENTS 1024
#define RBUF 65536

struct endpoint {
    char url[128];
    char host[64];
    int port;
    struct sockaddr_in addr;
};

/* One client connection: its request in flight and what has come back so far. */
struct conn {
    int fd;
    int ep;
    char req[512];
    size_t reqlen, sent;
    char buf[RBUF];
    size_t have;
    double start_ms;
    int busy;
};

static struct endpoint eps[MAX_ENDPOINTS];
static int neps;

static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("etcdload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

/* ---- endpoints ------------------------------------------------------------------------- */

/* "http://127.0.0.1:2379" (IPv4 literal only: the bench runs on loopback). */
static void parse_endpoint(const char *s, struct endpoint *e)
{
    if (strlen(s) >= sizeof e->url)
        die("endpoint too long: %s", s);
    snprintf(e->url, sizeof e->url, "%s", s);
    const char *p = s;
    if (!strncmp(p, "http://", 7))
        p += 7;
    else if (strstr(p, "://"))
        die("endpoint %s: only http:// is supported", s);
    const char *colon = strchr(p, ':');
    if (!colon || colon == p || (size_t)(colon - p) >= sizeof e->host)
        die("endpoint %s: expected http://HOST:PORT", s);
    memcpy(e->host, p, (size_t)(colon - p));
    e->host[colon - p] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && *end != '/') || port < 1 || port > 65535)
        die("endpoint %s: bad port", s);
    e->port = (int)port;
    memset(&e->addr, 0, sizeof e->addr);
    e->addr.sin_family = AF_INET;
    e->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, e->host, &e->addr.sin_addr) != 1)
        die("endpoint %s: host must be an IPv4 address", s);
}

static void parse_endpoints(const char *list)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        die("out of memory");
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (neps == MAX_ENDPOINTS)
            die("at most %d endpoints", MAX_ENDPOINTS);
        parse_endpoint(t, &eps[neps++]);
    }
    free(copy);
    if (!neps)
        die("--endpoints is empty");
}

/* A connected TCP socket to endpoint i (blocking connect on loopback), or -1. */
static int dial(int i, int nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&eps[i].addr, sizeof eps[i].addr) < 0) {
        close(fd);
        return -1;
    }
    if (nonblock)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static size_t base64(const char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

static size_t http_post(char *dst, size_t cap, const struct endpoint *e, const char *path, const char *body)
{
    int n = snprintf(dst, cap,
                     "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n%s",
                     path, e->host, e->port, strlen(body), body);
    if (n < 0 || (size_t)n >= cap)
        die("request too long");
    return (size_t)n;
}

/* Case-insensitive search for a header line "name:" within [hdr, hdr+len); returns the value. */
static const char *header(const char *hdr, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = hdr, *end = hdr + len;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            *vlen = (size_t)(eol - v);
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}

enum { HTTP_MORE = 0, HTTP_DONE = 1, HTTP_BAD = -1 };

/* Decodes the chunked body at [p, end) into out (capacity cap). HTTP_DONE with *used set to
 * the bytes consumed when the last chunk and trailers are in, HTTP_MORE when not yet. */
static int dechunk(const char *p, const char *end, char *out, size_t cap, size_t *outlen, size_t *used)
{
    const char *start = p;
    size_t o = 0;
    for (;;) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            return HTTP_MORE;
        char *stop;
        unsigned long sz = strtoul(p, &stop, 16);
        if (stop == p)
            return HTTP_BAD;
        p = eol + 2;
        if (sz == 0) { /* trailers, then an empty line */
            for (;;) {
                eol = memmem(p, (size_t)(end - p), "\r\n", 2);
                if (!eol)
                    return HTTP_MORE;
                int empty = eol == p;
                p = eol + 2;
                if (empty)
                    break;
            }
            *outlen = o;
            *used = (size_t)(p - start);
            return HTTP_DONE;
        }
        if ((size_t)(end - p) < sz + 2)
            return HTTP_MORE;
        size_t take = sz < cap - o ? sz : cap - o;
        memcpy(out + o, p, take);
        o += take;
        p += sz + 2;
    }
}

/* Is a complete response in buf[0..have)? On HTTP_DONE fills *status, copies the body
 * (NUL-terminated, truncated to bodycap-1) and sets *used to the bytes the response took.
 * eof: the peer closed, which ends a body framed by neither length nor chunks. */
static int http_parse(const char *buf, size_t have, int eof, int *status, char *body, size_t bodycap, size_t *used,
                      int *closing)
{
    const char *hend = memmem(buf, have, "\r\n\r\n", 4);
    if (!hend)
        return eof ? HTTP_BAD : HTTP_MORE;
    if (have < 12 || strncmp(buf, "HTTP/1.", 7))
        return HTTP_BAD;
    *status = atoi(buf + 9);
    size_t hlen = (size_t)(hend - buf) + 2;
    const char *b = hend + 4, *end = buf + have;
    size_t vlen;
    const char *v = header(buf, hlen, "Connection", &vlen);
    *closing = v && vlen >= 5 && !strncasecmp(v, "close", 5);
    v = header(buf, hlen, "Transfer-Encoding", &vlen);
    if (v && vlen >= 7 && memmem(v, vlen, "chunked", 7)) {
        size_t blen = 0, u = 0;
        int r = dechunk(b, end, body, bodycap - 1, &blen, &u);
        if (r != HTTP_DONE)
            return r == HTTP_MORE && eof ? HTTP_BAD : r;
        body[blen] = 0;
        *used = (size_t)(b - buf) + u;
        return HTTP_DONE;
    }
    v = header(buf, hlen, "Content-Length", &vlen);
    if (v) {
        char *stop;
        unsigned long cl = strtoul(v, &stop, 10);
        if (stop == v)
            return HTTP_BAD;
        if ((size_t)(end - b) < cl)
            return eof ? HTTP_BAD : HTTP_MORE;
        size_t take = cl < bodycap - 1 ? cl : bodycap - 1;
        memcpy(body, b, take);
        body[take] = 0;
        *used = (size_t)(b - buf) + cl;
        return HTTP_DONE;
    }
    if (*status == 204 || *status == 304 || (*status >= 100 && *status < 200)) {
        body[0] = 0;
        *used = (size_t)(b - buf);
        return HTTP_DONE;
    }
    if (!eof) /* body runs to the end of the connection */
        return HTTP_MORE;
    size_t take = (size_t)(end - b) < bodycap - 1 ? (size_t)(end - b) : bodycap - 1;
    memcpy(body, b, take);
    body[take] = 0;
    *used = have;
    *closing = 1;
    return HTTP_DONE;
}

/* The unsigned integer after "name": in a JSON text (etcd's gateway writes uint64 as strings). */
static int json_u64(const char *json, const char *name, unsigned long long *out)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", name);
    const char *p = strstr(json, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    while (*p == ' ' || *p == ':' || *p == '"')
        p++;
    char *stop;
    *out = strtoull(p, &stop, 10);
    return stop == p ? -1 : 0;
}

/* One blocking request on *fd (dialled to endpoint i when -1); the body into out. Returns the
 * HTTP status, or -1 with *fd closed. */
static int roundtrip(int *fd, int i, const char *path, const char *json, char *out, size_t cap)
{
    static char buf[RBUF];
    char req[512];
    for (int attempt = 0; attempt < 2; attempt++) {
        if (*fd < 0 && (*fd = dial(i, 0)) < 0)
            return -1;
        size_t n = http_post(req, sizeof req, &eps[i], path, json);
        if (send(*fd, req, n, MSG_NOSIGNAL) != (ssize_t)n)
            goto broken;
        size_t have = 0;
        for (;;) {
            ssize_t r = have < sizeof buf ? recv(*fd, buf + have, sizeof buf - have, 0) : -1;
            int eof = r == 0;
            if (r < 0)
                goto broken;
            have += (size_t)(r > 0 ? r : 0);
            int status = 0, closing = 0;
            size_t used = 0;
            int p = http_parse(buf, have, eof, &status, out, cap, &used, &closing);
            if (p == HTTP_DONE) {
                if (closing) {
                    close(*fd);
                    *fd = -1;
                }
                return status;
            }
            if (p == HTTP_BAD)
                goto broken;
        }
    broken:
        close(*fd);
        *fd = -1;
    }
    return -1;
}

/* ---- put ------------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v, as conlab bench computes it. */
static double pct(const double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    if (i > 0)
        i--;
    if (i >= n)
        i = n - 1;
    return v[i];
}

static double *lat;
static size_t nlat, caplat;
static unsigned long long nfailed;

static void record(double ms)
{
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 65536;
        double *n = realloc(lat, caplat * sizeof *lat);
        if (!n)
            die("out of memory");
        lat = n;
    }
    lat[nlat++] = ms;
}

static void conn_send_next(struct conn *c, int keys)
{
    char key[32], val[32], bk[48], bv[48], body[160];
    int kl = snprintf(key, sizeof key, "k%u", (unsigned)(rng_next() % (uint64_t)keys));
    int vl = snprintf(val, sizeof val, "%llu", (unsigned long long)(rng_next() % 1000000));
    base64(key, (size_t)kl, bk);
    base64(val, (size_t)vl, bv);
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"%s\"}", bk, bv);
    c->reqlen = http_post(c->req, sizeof c->req, &eps[c->ep], "/v3/kv/put", body);
    c->sent = 0;
    c->busy = 1;
    c->start_ms = now_ms();
}

static void conn_reset(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->have = 0;
    c->busy = 0;
}

/* Writes what it can of the request; -1 when the connection broke. */
static int conn_flush(struct conn *c)
{
    while (c->sent < c->reqlen) {
        ssize_t w = send(c->fd, c->req + c->sent, c->reqlen - c->sent, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        c->sent += (size_t)w;
    }
    return 0;
}

/* Reads and, when a whole reply is in, records it. Returns 1 when the put finished (either
 * way), 0 when more is to come, -1 when the connection broke (the put counts as failed). */
static int conn_read(struct conn *c)
{
    int eof = 0;
    for (;;) {
        if (c->have == sizeof c->buf)
            return -1;
        ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
        if (r > 0) {
            c->have += (size_t)r;
            continue;
        }
        if (r == 0)
            eof = 1;
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        break;
    }
    static char body[RBUF];
    int status = 0, closing = 0;
    size_t used = 0;
    int p = http_parse(c->buf, c->have, eof, &status, body, sizeof body, &used, &closing);
    if (p == HTTP_MORE)
        return eof ? -1 : 0;
    if (p == HTTP_BAD)
        return -1;
    double ms = now_ms() - c->start_ms;
    if (status == 200 && strstr(body, "\"header\"") && !strstr(body, "\"error\""))
        record(ms);
    else
        nfailed++;
    memmove(c->buf, c->buf + used, c->have - used);
    c->have -= used;
    c->busy = 0;
    if (closing || eof) {
        close(c->fd);
        c->fd = -1;
        c->have = 0;
    }
    return 1;
}

static int run_put(int clients, double seconds, int keys, int nodes, int spread, int json)
{
    struct conn *cs = xmalloc((size_t)clients * sizeof *cs);
    for (int i = 0; i < clients; i++) {
        cs[i].fd = -1;
        cs[i].ep = spread ? i % neps : 0;
        cs[i].have = 0;
        cs[i].busy = 0;
        if ((cs[i].fd = dial(cs[i].ep, 1)) < 0)
            die("cannot connect to %s: %s", eps[cs[i].ep].url, strerror(errno));
    }
    struct pollfd *pf = xmalloc((size_t)clients * sizeof *pf);
    double t0 = now_ms(), end = t0 + seconds * 1000.0, drain_end = end + 5000.0;
    for (int i = 0; i < clients; i++)
        conn_send_next(&cs[i], keys);
    for (;;) {
        double t = now_ms();
        int active = 0;
        for (int i = 0; i < clients; i++) {
            struct conn *c = &cs[i];
            if (!c->busy && t < end) {
                if (c->fd < 0 && (c->fd = dial(c->ep, 1)) < 0) {
                    nfailed++;
                    continue;
                }
                conn_send_next(c, keys);
            }
            if (c->busy && c->sent < c->reqlen && conn_flush(c) < 0) {
                nfailed++;
                conn_reset(c);
            }
            pf[i].fd = c->busy ? c->fd : -1;
            pf[i].events = (short)(POLLIN | (c->busy && c->sent < c->reqlen ? POLLOUT : 0));
            pf[i].revents = 0;
            active += c->busy;
        }
        if (!active && t >= end)
            break;
        if (t >= drain_end) {
            nfailed += (unsigned long long)active;
            break;
        }
        int left = (int)ceil((t < end ? end : drain_end) - t);
        int n = poll(pf, (nfds_t)clients, left < 50 ? (left > 0 ? left : 1) : 50);
        if (n < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        for (int i = 0; n > 0 && i < clients; i++) {
            struct conn *c = &cs[i];
            if (pf[i].fd < 0 || !pf[i].revents)
                continue;
            if ((pf[i].revents & POLLOUT) && conn_flush(c) < 0) {
                nfailed++;
                conn_reset(c);
                continue;
            }
            if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                int r = conn_read(c);
                if (r < 0) {
                    nfailed++;
                    conn_reset(c);
                }
            }
        }
    }
    double secs = (now_ms() - t0) / 1000.0;
    if (nlat)
        qsort(lat, nlat, sizeof *lat, cmp_double);
    double thr = (double)nlat / secs;
    if (json)
        printf("{\"mode\":\"etcd\",\"nodes\":%d,\"clients\":%d,\"seconds\":%.1f,\"ops\":%zu,\"failed\":%llu,"
               "\"throughput\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
               nodes, clients, seconds, nlat, nfailed, thr, pct(lat, nlat, 50), pct(lat, nlat, 99));
    else {
        printf("load: etcd, %d nodes, %d clients, %.1f s, puts over %d keys\n", nodes, clients, secs, keys);
        printf("  ok %zu, failed %llu\n", nlat, nfailed);
        printf("  throughput %.0f puts/s, latency p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", thr,
               pct(lat, nlat, 50), pct(lat, nlat, 99), nlat ? lat[nlat - 1] : 0);
    }
    for (int i = 0; i < clients; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    free(cs);
    free(pf);
    free(lat);
    return nlat ? 0 : 1;
}

/* ---- status and elections -------------------------------------------------------------- */

struct status {
    unsigned long long member, leader, term;
};

static int get_status(int *fd, int i, struct status *st)
{
    static char body[RBUF];
    if (roundtrip(fd, i, "/v3/maintenance/status", "{}", body, sizeof body) != 200)
        return -1;
    if (json_u64(body, "member_id", &st->member) < 0 || json_u64(body, "raftTerm", &st->term) < 0)
        return -1;
    if (json_u64(body, "leader", &st->leader) < 0)
        st->leader = 0; /* proto3 JSON leaves a zero field out */
    return 0;
}

static int run_status(void)
{
    for (int i = 0; i < neps; i++) {
        int fd = -1;
        struct status st;
        if (get_status(&fd, i, &st) == 0)
            printf("%s %llu %llu %llu\n", eps[i].url, st.member, st.leader, st.term);
        else
            printf("%s down\n", eps[i].url);
        if (fd >= 0)
            close(fd);
    }
    return 0;
}

static int run_elect(int pid, unsigned long long term, int timeout_ms)
{
    int fds[MAX_ENDPOINTS];
    for (int i = 0; i < neps; i++)
        fds[i] = dial(i, 0); /* connect first so the clock starts at the kill itself */
    double t0 = now_ms();
    if (kill(pid, SIGKILL) < 0)
        die("kill %d: %s", pid, strerror(errno));
    int rc = 1;
    while (now_ms() - t0 < timeout_ms) {
        for (int i = 0; i < neps; i++) {
            struct status st;
            if (get_status(&fds[i], i, &st) == 0 && st.leader != 0 && st.term > term) {
                printf("%.1f\n", now_ms() - t0);
                rc = 0;
                goto out;
            }
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "etcdload: no new leader within %d ms\n", timeout_ms);
out:
    for (int i = 0; i < neps; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

/* ---- command line ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: etcdload put --endpoints URL[,URL...] [--clients C] [--seconds S] [--keys K]\n"
          "                    [--nodes N] [--spread] [--json]\n"
          "       etcdload elect --endpoints URL[,URL...] --kill PID --term T [--timeout-ms MS]\n"
          "       etcdload status --endpoints URL[,URL...]\n",
          f);
}

static long num_arg(const char *opt, const char *v, long lo, long hi)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        die("%s %s: expected an integer from %ld to %ld", opt, v, lo, hi);
    return x;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    int clients = 16, keys = 100, nodes = 3, spread = 0, json = 0, pid = 0, timeout_ms = 10000;
    double seconds = 5;
    unsigned long long term = 0;
    int have_term = 0;
    const char *endpoints = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        if (!strcmp(a, "--spread")) {
            spread = 1;
            continue;
        }
        if (!v)
            die("%s needs a value", a);
        i++;
        if (!strcmp(a, "--endpoints"))
            endpoints = v;
        else if (!strcmp(a, "--clients"))
            clients = (int)num_arg(a, v, 1, MAX_CLIENTS);
        else if (!strcmp(a, "--keys"))
            keys = (int)num_arg(a, v, 1, 1000000);
        else if (!strcmp(a, "--nodes"))
            nodes = (int)num_arg(a, v, 1, 99);
        else if (!strcmp(a, "--kill"))
            pid = (int)num_arg(a, v, 2, 1L << 30);
        else if (!strcmp(a, "--timeout-ms"))
            timeout_ms = (int)num_arg(a, v, 1, 600000);
        else if (!strcmp(a, "--term")) {
            char *end;
            errno = 0;
            term = strtoull(v, &end, 10);
            if (errno || end == v || *end)
                die("--term %s: expected a raft term", v);
            have_term = 1;
        } else if (!strcmp(a, "--seconds")) {
            char *end;
            seconds = strtod(v, &end);
            if (end == v || *end || !(seconds > 0 && seconds <= 3600))
                die("--seconds %s: expected a number of seconds from 0 to 3600", v);
        } else {
            usage(stderr);
            die("unknown option %s", a);
        }
    }
    if (!endpoints)
        die("%s needs --endpoints", cmd);
    parse_endpoints(endpoints);
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(cmd, "put"))
        return run_put(clients, seconds, keys, nodes, spread, json);
    if (!strcmp(cmd, "status"))
        return run_status();
    if (!strcmp(cmd, "elect")) {
        if (!pid || !have_term)
            die("elect needs --kill PID and --term T");
        return run_elect(pid, term, timeout_ms);
    }
    usage(stderr);
    die("unknown command %s", cmd);
}
