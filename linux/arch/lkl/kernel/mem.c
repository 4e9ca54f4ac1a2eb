// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's RAM: one block the host allocates at boot, sized by the
 * "mem=" boot argument.  The kernel image itself lives in the host's
 * address space outside it, so init sections are never freed into it.
 */
#include <linux/init.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/pfn.h>
#include <asm/host_ops.h>

#include "lkl.h"

unsigned long memory_start, memory_end;
void *empty_zero_page;
static unsigned long mem_size = 64UL << 20;

static int __init mem_setup(char *p)
{
	mem_size = memparse(p, &p);
	return 0;
}
early_param("mem", mem_setup);

void __init lkl_bootmem_init(void)
{
	unsigned long max_zone_pfn[MAX_NR_ZONES] = { 0 };
	void *mem;

	mem_size = PAGE_ALIGN(max(mem_size, 16UL << 20));
	mem = lkl_ops->mem_alloc(mem_size);
	if (!mem)
		panic("lkl: the host cannot give %lu bytes of memory\n", mem_size);

	memory_start = (unsigned long)mem;
	memory_end = memory_start + mem_size;
	memblock_add(__pa(memory_start), mem_size);

	min_low_pfn = PFN_UP(__pa(memory_start));
	max_low_pfn = PFN_DOWN(__pa(memory_end));
	max_pfn = max_low_pfn;
	set_max_mapnr(max_low_pfn - ARCH_PFN_OFFSET);
	high_memory = (void *)memory_end;

	max_zone_pfn[ZONE_NORMAL] = max_low_pfn;
	free_area_init(max_zone_pfn);

	empty_zero_page = memblock_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!empty_zero_page)
		panic("lkl: no memory for the zero page\n");
}

void __init mem_init(void)
{
	memblock_free_all();
}

/* The init sections are in the host's image of lkl.o, not in our RAM. */
void free_initmem(void)
{
}

void lkl_bootmem_halt(void)
{
	lkl_ops->mem_free((void *)memory_start);
}
