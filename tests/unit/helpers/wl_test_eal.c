/* SPDX-License-Identifier: BSD-3-Clause */

#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "wl_test_eal.h"

int
wl_test_eal_init(void)
{
	static int done;
	char prefix[64];
	char *argv[] = {
		"wl-test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"-l", "0", "--log-level", "*:error", "--file-prefix", prefix,
		NULL
	};
	int ret;

	if (done)
		return 0;
	snprintf(prefix, sizeof(prefix), "wltest%d", (int)getpid());
	ret = rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
	if (ret < 0)
		return -rte_errno;
	done = 1;
	return 0;
}
