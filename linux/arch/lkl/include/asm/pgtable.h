/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_PGTABLE_H
#define _ASM_LKL_PGTABLE_H

/* No MMU: there are no page tables, only what generic no-MMU code names. */
#include <asm-generic/pgtable-nopmd.h>

#define PAGE_NONE		__pgprot(0)
#define PAGE_SHARED		__pgprot(0)
#define PAGE_COPY		__pgprot(0)
#define PAGE_READONLY		__pgprot(0)
#define PAGE_KERNEL		__pgprot(0)

#define swapper_pg_dir		((pgd_t *)0)

#define VMALLOC_START		0UL
#define VMALLOC_END		0xffffffffUL
#define KMAP_START		0UL
#define KMAP_END		0xffffffffUL

extern void *empty_zero_page;
#define ZERO_PAGE(vaddr)	(virt_to_page(empty_zero_page))

#endif
