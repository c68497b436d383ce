/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WR_REPLAY_H
#define WR_REPLAY_H

/*
 * wirelat-replay: main.c sends captures through DPDK ports on a schedule
 * (lib/pace); gen.c is the "gen" subcommand, a workload generator that
 * needs no EAL.
 */

/** wirelat-replay gen [options]: argv[0] is "gen". @return exit status. */
int wr_gen_main(int argc, char **argv);

#endif /* WR_REPLAY_H */
