/* SPDX-License-Identifier: BSD-3-Clause */

#include <stdio.h>

#include "replay.h"

int
wr_gen_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "wirelat-replay gen: not built yet\n");
	return 2;
}
