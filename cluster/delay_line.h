/*
 * delay_line.h - the delay line of `ec-port delay-line` (delay_line.c):
 * holds the frames the ports' rules delay and sends each into the bridge
 * when it is due.  It finds the ports' maps through port.h and knows
 * nothing of the rest of ec-port.
 */
#ifndef EC_CLUSTER_DELAY_LINE_H
#define EC_CLUSTER_DELAY_LINE_H

/* Run the delay line for the ports ifnames[0..n) until SIGINT or SIGTERM,
 * sending frames into the bridge device bridge; returns the exit status
 * (0, 1 on error, 2 on bad arguments). */
int delay_line_run(const char *bridge, int n, char **ifnames);

#endif /* EC_CLUSTER_DELAY_LINE_H */
