// SPDX-License-Identifier: GPL-2.0
/* There is no assembly code in this port: nothing to export to it. */
#include <linux/kbuild.h>

int main(void)
{
	return 0;
}
