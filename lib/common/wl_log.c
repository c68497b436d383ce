/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * One dynamic log type for all of wirelat. Messages end in a newline
 * added here, so callers pass a single line without one.
 */

#include <stdarg.h>
#include <stdio.h>

#include <rte_log.h>

#include "wl_log.h"

RTE_LOG_REGISTER(wl_logtype, wirelat, INFO);

const char *wl_prog_name = "wirelat";

void
wl_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", wl_prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
wl_notice(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: notice: ", wl_prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
wl_log(unsigned int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rte_log(level, wl_logtype, "%s: %s\n", wl_prog_name, buf);
}
