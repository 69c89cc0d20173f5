/* zkclient — one named client session of the ZooKeeper-like service (zab service=zk), as its
 * own OS process so that the lab can pause (SIGSTOP), crash (SIGKILL) and cut it off like a
 * node: `conlab __client --id c1 --node n1=EP … --cmd EP --events EP`.
 *
 * It keeps sessions alive with heartbeats to every node, and runs the recipes the way Apache
 * Curator writes them: a lock is an ephemeral sequential znode under /locks/NAME, the lowest
 * holds it, each waiter watches only its predecessor (no herd effect); its fencing token is
 * the log index at which its znode was created. LeaderSelector is the same queue under the
 * election path, with requeue on resign; config is a znode with a one-shot watch set again
 * after each change; service discovery is ephemeral sequential znodes holding addresses.
 *
 * Lab -> client: JSON commands on its PULL socket {"req":N,"cmd":"lock","args":[…]}.
 * Client -> lab: events on the lab's event socket, like a node's: client_reply {req, ok, text}
 * ends a command; mutex (lock records, lab/check/mutex.h), client_session, elected, watch_fired
 * and storage_write (the lab's fenced storage answers with {"cmd":"storage_result",…}).
 * Protocol details: docs/modes/zk.md. */
#ifndef CONLAB_ZKCLIENT_H
#define CONLAB_ZKCLIENT_H

/* The client process's main (argv[0] is "__client"). Returns its exit status. */
int zkclient_main(int argc, char **argv);

#endif
