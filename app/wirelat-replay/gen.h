/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WR_GEN_H
#define WR_GEN_H

/*
 * The "gen" subcommand: a workload generator writing a pcap of synthetic
 * conversations of every protocol wirelat parses and their ground truth.
 * No EAL, no DPDK headers.
 */

/** wirelat-replay gen [options]: argv[0] is "gen". @return exit status. */
int wr_gen_main(int argc, char **argv);

#endif /* WR_GEN_H */
