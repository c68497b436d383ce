/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TEST_EAL_H
#define WL_TEST_EAL_H

/*
 * Bring up a real EAL for unit tests: no hugepages, no PCI, in-memory,
 * one lcore. Libraries under test use real DPDK (rings, mempools,
 * rte_malloc) rather than mocks.
 * @return 0 or the negative error from rte_eal_init().
 */
int wl_test_eal_init(void);

#endif /* WL_TEST_EAL_H */
