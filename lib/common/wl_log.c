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

static void
vmsg(const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", wl_prog_name, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
wl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void
wl_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("notice: ", fmt, ap);
	va_end(ap);
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
