// SPDX-License-Identifier: GPL-2.0
/* The console goes to a host callback; with none, the kernel is silent. */
#include <linux/console.h>
#include <linux/init.h>
#include <asm/host_ops.h>

#include "lkl.h"

static void console_write(struct console *con, const char *str,
			  unsigned int len)
{
	lkl_ops->print(str, len);
}

static struct console host_console = {
	.name	= "lkl",
	.write	= console_write,
	.flags	= CON_PRINTBUFFER | CON_ENABLED,
	.index	= -1,
};

void __init lkl_console_init(void)
{
	if (lkl_ops->print)
		register_console(&host_console);
}
