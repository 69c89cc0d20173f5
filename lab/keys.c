/* keys — see keys.h. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "util.h"

static const char z85_chars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

int key_valid(const char *s)
{
    if (!s || strlen(s) != 40)
        return 0;
    for (int i = 0; i < 40; i++)
        if (!strchr(z85_chars, s[i]) || !s[i])
            return 0;
    uint8_t bin[32];
    return zmq_z85_decode(bin, s) != NULL;
}

int key_generate(const char *path, int force, char pub[KEY_Z85], char *err, size_t errlen)
{
    char sec[KEY_Z85];
    if (zmq_curve_keypair(pub, sec) < 0) {
        snprintf(err, errlen, "this libzmq cannot make CURVE keys (built without libsodium?)");
        return CL_EIO;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (--force replaces it)" : "");
        return CL_EIO;
    }
    if (fchmod(fd, 0600) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return CL_EIO;
    }
    char *text = xasprintf("# conlab CURVE key pair: keep this file secret (give others the public key)\n"
                           "public = %s\nsecret = %s\n", pub, sec);
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    free(text);
    if (close(fd) < 0 || !ok) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return CL_EIO;
    }
    return 0;
}

/* Trims spaces at both ends in place; returns the start. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

int key_read(const char *path, char pub[KEY_Z85], char sec[KEY_Z85], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return CL_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return CL_EINVAL;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "%s: group or others may read this secret key (mode %03o): chmod 600 %s", path,
                 (unsigned)(st.st_mode & 0777), path);
        close(fd);
        return CL_EINVAL;
    }
    char buf[4096];
    ssize_t got = read(fd, buf, sizeof buf);
    close(fd);
    if (got < 0 || got == (ssize_t)sizeof buf) {
        snprintf(err, errlen, "%s: %s", path, got < 0 ? strerror(errno) : "too long for a key file");
        return CL_EINVAL;
    }
    return key_parse(buf, (size_t)got, path, pub, sec, err, errlen);
}

int key_parse(const char *text, size_t len, const char *path, char pub[KEY_Z85], char sec[KEY_Z85], char *err,
              size_t errlen)
{
    if (memchr(text, 0, len)) {
        snprintf(err, errlen, "%s: a NUL byte: not a key file", path);
        return CL_EINVAL;
    }
    char line[256];
    int ln = 0;
    pub[0] = sec[0] = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (text + off)) : len - off;
        ln++;
        if (l >= sizeof line) {
            snprintf(err, errlen, "%s:%d: a line too long for a key file", path, ln);
            return CL_EINVAL;
        }
        memcpy(line, text + off, l);
        line[l] = 0;
        off += l + 1;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'public = KEY' or 'secret = KEY'", path, ln);
            return CL_EINVAL;
        }
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        char *dst = !strcmp(k, "public") ? pub : !strcmp(k, "secret") ? sec : NULL;
        if (!dst) {
            snprintf(err, errlen, "%s:%d: unknown field '%.40s' (public or secret)", path, ln, k);
            return CL_EINVAL;
        }
        if (!key_valid(v)) {
            snprintf(err, errlen, "%s:%d: %s is not a 40-character Z85 CURVE key", path, ln, k);
            return CL_EINVAL;
        }
        str_copy(dst, v, KEY_Z85);
    }
    if (!sec[0]) {
        snprintf(err, errlen, "%s: no 'secret = KEY' line (make one with conlab keygen)", path);
        return CL_EINVAL;
    }
    char derived[KEY_Z85];
    if (zmq_curve_public(derived, sec) < 0) {
        snprintf(err, errlen, "%s: the secret key is not usable", path);
        return CL_EINVAL;
    }
    if (pub[0] && strcmp(pub, derived)) {
        snprintf(err, errlen, "%s: the public key is not the secret key's", path);
        return CL_EINVAL;
    }
    str_copy(pub, derived, KEY_Z85);
    return 0;
}

int keylist_find(const struct keylist *l, const char *key)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->key[i], key))
            return i;
    return -1;
}

int keylist_add(struct keylist *l, const char *key, const char *name)
{
    if (keylist_find(l, key) >= 0)
        return 0;
    if (l->n >= (int)CL_ARRAY_LEN(l->key))
        return CL_ENOSPACE;
    str_copy(l->key[l->n], key, KEY_Z85);
    str_copy(l->name[l->n], name ? name : "", sizeof l->name[0]);
    l->n++;
    return 0;
}

int keylist_read(struct keylist *l, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return CL_EIO;
    }
    char line[512];
    int ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *s = trim(line); /* '#' is a Z85 digit: a comment only starts a line */
        if (!*s || *s == '#')
            continue;
        char key[KEY_Z85] = "", *name = s + strcspn(s, " \t");
        if (name - s == 40)
            memcpy(key, s, 40);
        key[name - s == 40 ? 40 : 0] = 0;
        if (!key_valid(key)) {
            snprintf(err, errlen, "%s:%d: expected a 40-character Z85 public key, then a name if you like", path, ln);
            fclose(f);
            return CL_EINVAL;
        }
        name = trim(name);
        if (keylist_add(l, key, name) < 0) {
            snprintf(err, errlen, "%s:%d: more than %zu keys", path, ln, CL_ARRAY_LEN(l->key));
            fclose(f);
            return CL_ENOSPACE;
        }
    }
    fclose(f);
    return 0;
}

int keygen_main(int argc, char **argv)
{
    int force = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: conlab keygen [--force] FILE\n"
                 "  Writes a new CURVE key pair to FILE (mode 0600) and prints its public key: give\n"
                 "  the public key to the lab (its cluster file, or its list of allowed keys) and keep\n"
                 "  FILE for conlab join, conlab dash (attached to a classroom) or conlab serve.");
            return 0;
        }
        if (!strcmp(argv[i], "--force")) {
            force = 1;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "conlab keygen: unexpected argument '%s' (usage: conlab keygen [--force] FILE)\n", argv[i]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "conlab keygen: name the key file to write (usage: conlab keygen [--force] FILE)\n");
        return 2;
    }
    char pub[KEY_Z85], err[512];
    if (key_generate(path, force, pub, err, sizeof err) < 0) {
        fprintf(stderr, "conlab keygen: %s\n", err);
        return 1;
    }
    printf("%s\n", pub);
    return 0;
}
