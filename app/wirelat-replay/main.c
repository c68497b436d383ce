/* SPDX-License-Identifier: BSD-3-Clause */

#include <stdio.h>
#include <string.h>

#include "replay.h"

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "gen") == 0)
		return wr_gen_main(argc - 1, argv + 1);
	fprintf(stderr, "wirelat-replay: not built yet\n");
	return 2;
}
