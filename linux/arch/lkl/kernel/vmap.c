// SPDX-License-Identifier: GPL-2.0
/*
 * vmap() and vm_map_ram() without an MMU.  The kernel's RAM is host
 * memory that the host can map a second time, page by page, at an address
 * of its own (host_ops.h: mem_alias), so pages scattered over RAM can
 * still be seen side by side: an XFS buffer of several pages, a
 * compressed EROFS, F2FS or NTFS3 cluster.  mm/nommu.c calls these for
 * CONFIG_ARCH_HAS_NOMMU_VMAP.  Where the host cannot, they fail with
 * NULL, which callers take as -ENOMEM.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>
#include <asm/host_ops.h>

/* Pages in each alias, by its first page: vunmap() is given only that. */
static DEFINE_XARRAY(aliases);

void *arch_nommu_vmap(struct page **pages, unsigned int count)
{
	unsigned long *pfns;
	unsigned int i;
	void *addr;

	if (!lkl_ops->mem_alias || !lkl_ops->mem_unalias || !count)
		return NULL;
	pfns = kmalloc_array(count, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return NULL;
	/* RAM starts at physical address 0: a pfn is a page's offset in it. */
	for (i = 0; i < count; i++)
		pfns[i] = page_to_pfn(pages[i]);
	addr = lkl_ops->mem_alias(pfns, count);
	kfree(pfns);
	if (!addr)
		return NULL;
	if (xa_is_err(xa_store(&aliases, (unsigned long)addr >> PAGE_SHIFT,
			       xa_mk_value(count), GFP_KERNEL))) {
		lkl_ops->mem_unalias(addr, count);
		return NULL;
	}
	return addr;
}

void arch_nommu_vunmap(const void *addr)
{
	void *entry;

	if (!addr)
		return;
	entry = xa_erase(&aliases, (unsigned long)addr >> PAGE_SHIFT);
	if (WARN_ON_ONCE(!entry))
		return;
	lkl_ops->mem_unalias((void *)addr, xa_to_value(entry));
}
