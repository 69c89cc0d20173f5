/* nftfaults — see nftfaults.h. Drives the nft command (nft -f - with a script on stdin). */
#include "nftfaults.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

struct nft {
    char table[64];
    int have;                   /* our table exists */
};

/* Runs `nft` with args, the script on stdin; output (both streams) into out. Exit status. */
static int run_nft(const char *script, const char *arg, char *out, size_t outn)
{
    int in[2], o[2];
    if (pipe(in) < 0)
        return -1;
    if (pipe(o) < 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]); close(in[1]); close(o[0]); close(o[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(o[1], 1);
        dup2(o[1], 2);
        close(in[0]); close(in[1]); close(o[0]); close(o[1]);
        if (arg)
            execlp("nft", "nft", "-j", "list", "table", "inet", arg, (char *)NULL);
        else
            execlp("nft", "nft", "-f", "-", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(o[1]);
    size_t len = script ? strlen(script) : 0, off = 0;
    while (off < len) {
        ssize_t w = write(in[1], script + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(in[1]);
    size_t got = 0;
    for (;;) {
        ssize_t r = read(o[0], out + got, got + 1 < outn ? outn - got - 1 : 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (got + 1 >= outn) { /* drain */
                char junk[4096];
                if (read(o[0], junk, sizeof junk) > 0)
                    continue;
            }
            break;
        }
        got += (size_t)r;
    }
    out[got < outn ? got : outn - 1] = 0;
    close(o[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

struct nft *nft_open(char *err, size_t errlen)
{
    struct nft *n = xcalloc(1, sizeof *n);
    snprintf(n->table, sizeof n->table, "conlab_%d", (int)getpid());
    char out[1024];
    char *probe = xasprintf("add table inet %s\ndelete table inet %s\n", n->table, n->table);
    int rc = run_nft(probe, NULL, out, sizeof out);
    free(probe);
    if (rc != 0) {
        out[strcspn(out, "\n")] = 0;
        snprintf(err, errlen, "faults=kernel is off on this host: %s", rc == 127 ? "nft is not installed (apt-get install nftables)" : out);
        free(n);
        return NULL;
    }
    err[0] = 0;
    return n;
}

/* The match that keeps loss% of the packets for the drop ("" for all of them: numgen's
 * range stops at 99). Static buffer: one use per expression. */
static const char *random_drop(json_int_t loss)
{
    static char buf[64];
    if (loss >= 100)
        return "";
    snprintf(buf, sizeof buf, "numgen random mod 100 < %lld", (long long)loss);
    return buf;
}

int nft_apply(struct nft *n, const json_t *rules, char *err, size_t errlen)
{
    if (!n) {
        snprintf(err, errlen, "faults=kernel is off on this host (no nft, or not root)");
        return CL_EIO;
    }
    struct sb s = {0};
    if (n->have)
        sb_printf(&s, "delete table inet %s\n", n->table);
    json_t *list = json_object_get(rules, "rules");
    if (json_array_size(list)) {
        sb_printf(&s, "table inet %s {\n chain input {\n  type filter hook input priority -10; policy accept;\n", n->table);
        size_t i;
        json_t *r;
        json_array_foreach(list, i, r) {
            const char *src = json_string_value(json_object_get(r, "src"));
            const char *dst = json_string_value(json_object_get(r, "dst"));
            json_int_t dport = json_integer_value(json_object_get(r, "dport"));
            json_int_t loss = json_integer_value(json_object_get(r, "loss"));
            const char *link = json_string_value(json_object_get(r, "link"));
            static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_->";
            if (!src || !dst || dport < 1 || dport > 65535 || loss < 1 || loss > 100 || strspn(src, "0123456789.") != strlen(src) ||
                strspn(dst, "0123456789.") != strlen(dst) || !link || !*link || strlen(link) > 40 ||
                strspn(link, ok) != strlen(link)) {
                snprintf(err, errlen, "a kernel fault rule without src, dst, dport, loss 1..100 and link");
                sb_free(&s);
                return CL_EINVAL;
            }
            /* to the node's port from src's nodes (the first counter sees every packet, the
             * second the dropped ones) */
            sb_printf(&s, "  ip saddr %s ip daddr %s tcp dport %lld counter %s counter drop comment \"%s\"\n",
                      src, dst, (long long)dport, random_drop(loss), link);
        }
        sb_printf(&s, " }\n chain output {\n  type filter hook output priority -10; policy accept;\n");
        json_array_foreach(list, i, r) {
            /* the node's answers on those connections (TCP's acknowledgements) */
            sb_printf(&s, "  ip saddr %s ip daddr %s tcp sport %lld counter %s counter drop comment \"%s\"\n",
                      json_string_value(json_object_get(r, "dst")), json_string_value(json_object_get(r, "src")),
                      (long long)json_integer_value(json_object_get(r, "dport")),
                      random_drop(json_integer_value(json_object_get(r, "loss"))),
                      json_string_value(json_object_get(r, "link")));
        }
        sb_printf(&s, " }\n}\n");
    }
    if (!s.len) {
        sb_free(&s);
        return 0;
    }
    char out[2048];
    int rc = run_nft(s.s, NULL, out, sizeof out);
    sb_free(&s);
    if (rc != 0) {
        out[strcspn(out, "\n")] = 0;
        snprintf(err, errlen, "nft refused the fault rules: %s", out);
        n->have = 0;
        return CL_EIO;
    }
    n->have = json_array_size(list) > 0;
    return 0;
}

json_t *nft_counters(struct nft *n)
{
    json_t *sum = json_pack("{s:o,s:I,s:I}", "rules", json_object(), "seen", (json_int_t)0, "dropped", (json_int_t)0);
    if (!n || !n->have)
        return sum;
    char *out = xmalloc(1 << 20);
    int rc = run_nft(NULL, n->table, out, 1 << 20);
    json_t *j = rc == 0 ? json_loads(out, 0, NULL) : NULL;
    free(out);
    json_int_t seen_all = 0, dropped_all = 0;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(j, "nftables"), i, item) {
        json_t *rule = json_object_get(item, "rule");
        const char *link = json_string_value(json_object_get(rule, "comment"));
        if (!link)
            continue;
        json_int_t c[2] = {0, 0};
        int k = 0;
        size_t e;
        json_t *ex;
        json_array_foreach(json_object_get(rule, "expr"), e, ex) {
            json_t *ctr = json_object_get(ex, "counter");
            if (ctr && k < 2)
                c[k++] = json_integer_value(json_object_get(ctr, "packets"));
        }
        json_t *r = json_object_get(json_object_get(sum, "rules"), link);
        if (!r) {
            r = json_pack("{s:I,s:I}", "seen", (json_int_t)0, "dropped", (json_int_t)0);
            json_object_set_new(json_object_get(sum, "rules"), link, r);
        }
        json_object_set_new(r, "seen", json_integer(json_integer_value(json_object_get(r, "seen")) + c[0]));
        json_object_set_new(r, "dropped", json_integer(json_integer_value(json_object_get(r, "dropped")) + c[1]));
        seen_all += c[0];
        dropped_all += c[1];
    }
    json_decref(j);
    json_object_set_new(sum, "seen", json_integer(seen_all));
    json_object_set_new(sum, "dropped", json_integer(dropped_all));
    return sum;
}

/* Can this host's kernel delay, duplicate and reorder (tc netem)? A netem qdisc on loopback,
 * removed at once (the agent's own network namespace, or the host's for a moment). */
int nft_netem_probe(char *why, size_t n)
{
    char out[512];
    int o[2];
    if (pipe(o) < 0) {
        snprintf(why, n, "cannot probe: %s", strerror(errno));
        return 0;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(o[1], 1);
        dup2(o[1], 2);
        close(o[0]);
        close(o[1]);
        execlp("tc", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms", (char *)NULL);
        _exit(127);
    }
    close(o[1]);
    ssize_t got = pid > 0 ? read(o[0], out, sizeof out - 1) : -1;
    out[got > 0 ? got : 0] = 0;
    close(o[0]);
    int st = 0;
    if (pid > 0)
        waitpid(pid, &st, 0);
    int ok = pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (ok) {
        if (fork() == 0) {
            execlp("tc", "tc", "qdisc", "del", "dev", "lo", "root", (char *)NULL);
            _exit(127);
        }
        wait(NULL);
        snprintf(why, n, "ok");
        return 1;
    }
    out[strcspn(out, "\n")] = 0;
    const char *said = strncmp(out, "Error: ", 7) ? out : out + 7;
    snprintf(why, n, "%s", pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127 ? "tc is not installed" : said[0] ? said : "tc failed");
    return 0;
}

void nft_clear(struct nft *n)
{
    if (!n || !n->have)
        return;
    char out[512];
    char *s = xasprintf("delete table inet %s\n", n->table);
    run_nft(s, NULL, out, sizeof out);
    free(s);
    n->have = 0;
}

void nft_close(struct nft **np)
{
    nft_clear(*np);
    free(*np);
    *np = NULL;
}
