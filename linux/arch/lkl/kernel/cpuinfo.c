// SPDX-License-Identifier: GPL-2.0
/* /proc/cpuinfo and the boot-time CPU calibration of the one virtual CPU. */
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/seq_file.h>

static int show_cpuinfo(struct seq_file *m, void *v)
{
	seq_puts(m, "processor\t: 0\nmodel name\t: lkl\n");
	return 0;
}

static void *c_start(struct seq_file *m, loff_t *pos)
{
	return *pos == 0 ? (void *)1 : NULL;
}

static void *c_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return NULL;
}

static void c_stop(struct seq_file *m, void *v)
{
}

const struct seq_operations cpuinfo_op = {
	.start	= c_start,
	.next	= c_next,
	.stop	= c_stop,
	.show	= show_cpuinfo,
};

/* Delays read the host clock (time.c): there is no loop to calibrate. */
void calibrate_delay(void)
{
	loops_per_jiffy = 1000000000 / HZ;
}
