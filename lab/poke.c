/* poke — `conlab poke ENDPOINT FRAME`: sends one frame to a ZeroMQ endpoint as any program
 * could (a DEALER; CURVE with --key and --server-key) and prints what comes back. The
 * attacker's tool of the classroom: pose as a node at another node's peer socket and watch
 * the node refuse it (a `drop` event in the lab). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "keys.h"
#include "roomcmds.h"
#include "util.h"

int poke_main(int argc, char **argv)
{
    const char *ep = NULL, *frame = NULL, *keyfile = NULL, *server = NULL;
    uint64_t wait_us = 2000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: conlab poke ENDPOINT FRAME [--key FILE --server-key KEY] [--wait DURATION]\n"
                 "  Sends FRAME (one envelope, e.g. '{\"src\":\"n1\",\"dest\":\"n3\",\"body\":{...}}') to\n"
                 "  ENDPOINT (tcp://HOST:PORT) from a ZeroMQ DEALER, as any program on the network could,\n"
                 "  and prints every frame that comes back within --wait (default 2s), again every\n"
                 "  200 ms meanwhile (a refused handshake is retried). With --key and --server-key it\n"
                 "  speaks CURVE. Exit 0 an answer came, 1 none came.");
            return 0;
        } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
            keyfile = argv[++i];
        } else if (!strcmp(argv[i], "--server-key") && i + 1 < argc) {
            server = argv[++i];
        } else if (!strcmp(argv[i], "--wait") && i + 1 < argc) {
            if (parse_duration_us(argv[++i], &wait_us) < 0) {
                fprintf(stderr, "conlab poke: --wait wants a duration such as 2s, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!ep && argv[i][0] != '-') {
            ep = argv[i];
        } else if (!frame && argv[i][0] != '-') {
            frame = argv[i];
        } else {
            fprintf(stderr, "conlab poke: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!ep || !frame || (strncmp(ep, "tcp://", 6) && strncmp(ep, "ipc://", 6))) {
        fprintf(stderr, "conlab poke: usage: conlab poke tcp://HOST:PORT FRAME [--key FILE --server-key KEY]\n");
        return 2;
    }
    if (!keyfile != !server || (server && !key_valid(server))) {
        fprintf(stderr, "conlab poke: CURVE wants both --key FILE and --server-key (a 40-character public key)\n");
        return 2;
    }
    char pub[KEY_Z85], sec[KEY_Z85], err[512];
    if (keyfile && key_read(keyfile, pub, sec, err, sizeof err) < 0) {
        fprintf(stderr, "conlab poke: %s\n", err);
        return 2;
    }
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, ivl = 100;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    if (keyfile) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
    }
    int rc = 1;
    if (zmq_connect(s, ep) < 0) {
        fprintf(stderr, "conlab poke: cannot connect to %s: %s\n", ep, zmq_strerror(zmq_errno()));
        rc = 2;
    }
    uint64_t end = mono_us() + wait_us, last = 0;
    char buf[65536];
    while (rc != 2 && mono_us() < end) {
        if (mono_us() - last >= 200000) {
            zmq_send(s, frame, strlen(frame), ZMQ_DONTWAIT);
            last = mono_us();
        }
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) > 0) {
            int n = zmq_recv(s, buf, sizeof buf - 1, ZMQ_DONTWAIT);
            if (n >= 0) {
                buf[n < (int)sizeof buf - 1 ? n : (int)sizeof buf - 1] = 0;
                printf("%s\n", buf);
                rc = 0;
            }
        }
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}
