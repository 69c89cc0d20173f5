/* agent — `conlab join HOST:PORT --key FILE --server-key KEY`: a host agent of a classroom
 * (room.h). It connects to the lab (a CURVE client with its own key), says hello, and then
 * runs this host's nodes for the lab: spawns them (conlab-node, with --lab-pid naming the
 * agent, so they die with it), signals and kills them when told, relays their control
 * messages and events to the lab and the lab's client requests to them (their client sockets
 * stay on loopback), and reports their exits. Heartbeats both ways: when the lab is silent
 * for the timeout it gave (or says bye), the agent kills every node it runs and waits for a
 * lab again (--once: exits). With faults=kernel it also turns the lab's network faults into
 * nftables rules on this host (nftfaults.h). */
#ifndef CONLAB_AGENT_H
#define CONLAB_AGENT_H

int agent_main(int argc, char **argv, const char *argv0);

#endif
