/* keys — CURVE key files for the classroom (conlab keygen, serve --key, join --key, dash
 * --attach --key) and the lab's list of allowed public keys.
 *
 * A key file holds one keypair in Z85 (40 characters each), as `conlab keygen` writes it:
 *
 *     # conlab CURVE key pair: keep this file secret
 *     public = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
 *     secret = JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6
 *
 * It is refused when group or others may read it (like ssh's private keys), when a line is
 * not one of those, or when the public key is not the secret key's. A list of allowed keys
 * (serve --allow FILE) holds one public key a line, optionally followed by a name; '#'
 * starts a comment. */
#ifndef CONLAB_KEYS_H
#define CONLAB_KEYS_H

#include <stddef.h>

#define KEY_Z85 41 /* 40 characters and the NUL */

/* Is s a 40-character Z85 key? */
int key_valid(const char *s);
/* Writes a new keypair to path (mode 0600, refusing to overwrite unless force). Fills pub.
 * Returns 0 or CL_EIO/CL_EEXIST... with the reason in err. */
int key_generate(const char *path, int force, char pub[KEY_Z85], char *err, size_t errlen);
/* Reads a key file. Returns 0, or CL_EINVAL/CL_EIO with "PATH:LINE: what" in err. */
int key_read(const char *path, char pub[KEY_Z85], char sec[KEY_Z85], char *err, size_t errlen);

/* The same for a key file's text (path names it in messages). */
int key_parse(const char *text, size_t len, const char *path, char pub[KEY_Z85], char sec[KEY_Z85], char *err,
              size_t errlen);

struct keylist {
    int n;
    char key[64][KEY_Z85];
    char name[64][32];
};
/* Appends the keys of an allow file. Returns 0 or CL_EINVAL with "PATH:LINE: what" in err. */
int keylist_read(struct keylist *l, const char *path, char *err, size_t errlen);
/* Adds one key (a duplicate is not added again). Returns 0, or CL_ENOSPACE when full. */
int keylist_add(struct keylist *l, const char *key, const char *name);
/* The index of key in l, or -1. */
int keylist_find(const struct keylist *l, const char *key);

/* `conlab keygen [--force] FILE`. */
int keygen_main(int argc, char **argv);

#endif
