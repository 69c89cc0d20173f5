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
            if (!src || !dst || dport < 1 || dport > 65535 || loss < 1 || loss > 100 || strspn(src, "0123456789.") != strlen(src) ||
                strspn(dst, "0123456789.") != strlen(dst)) {
                snprintf(err, errlen, "a kernel fault rule without src, dst, dport and loss 1..100");
                sb_free(&s);
                return CL_EINVAL;
            }
            /* to the node's port from src's nodes, and the node's answers on those connections */
            sb_printf(&s, "  ip saddr %s ip daddr %s tcp dport %lld counter numgen random mod 100 < %lld counter drop comment \"r%zu\"\n",
                      src, dst, (long long)dport, (long long)loss, i);
        }
        sb_printf(&s, " }\n chain output {\n  type filter hook output priority -10; policy accept;\n");
        json_array_foreach(list, i, r) {
            sb_printf(&s, "  ip saddr %s ip daddr %s tcp sport %lld counter numgen random mod 100 < %lld counter drop comment \"o%zu\"\n",
                      json_string_value(json_object_get(r, "dst")), json_string_value(json_object_get(r, "src")),
                      (long long)json_integer_value(json_object_get(r, "dport")),
                      (long long)json_integer_value(json_object_get(r, "loss")), i);
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
    if (!n || !n->have)
        return NULL;
    char *out = xmalloc(1 << 20);
    int rc = run_nft(NULL, n->table, out, 1 << 20);
    json_t *j = rc == 0 ? json_loads(out, 0, NULL) : NULL;
    free(out);
    return j;
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
