/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_ATOMIC_H
#define _ASM_LKL_ATOMIC_H

#include <asm-generic/atomic.h>

/*
 * 64-bit atomics.  Only the host thread that owns the CPU runs kernel
 * code, and interrupts never arrive in the middle of an expression (they
 * run only where the flag is set back on), so a plain read-modify-write
 * is already atomic with respect to everything else in the kernel.
 */
#define LKL_ATOMIC64_OPS(op, c_op)					\
static inline void arch_atomic64_##op(s64 i, atomic64_t *v)		\
{									\
	v->counter = v->counter c_op i;					\
	barrier();							\
}									\
static inline s64 arch_atomic64_fetch_##op(s64 i, atomic64_t *v)	\
{									\
	s64 old = v->counter;						\
									\
	v->counter = old c_op i;					\
	barrier();							\
	return old;							\
}

LKL_ATOMIC64_OPS(add, +)
LKL_ATOMIC64_OPS(sub, -)
LKL_ATOMIC64_OPS(and, &)
LKL_ATOMIC64_OPS(or, |)
LKL_ATOMIC64_OPS(xor, ^)

#undef LKL_ATOMIC64_OPS

static inline s64 arch_atomic64_add_return(s64 i, atomic64_t *v)
{
	return arch_atomic64_fetch_add(i, v) + i;
}

static inline s64 arch_atomic64_sub_return(s64 i, atomic64_t *v)
{
	return arch_atomic64_fetch_sub(i, v) - i;
}

#define arch_atomic64_add		arch_atomic64_add
#define arch_atomic64_sub		arch_atomic64_sub
#define arch_atomic64_and		arch_atomic64_and
#define arch_atomic64_or		arch_atomic64_or
#define arch_atomic64_xor		arch_atomic64_xor
#define arch_atomic64_fetch_add		arch_atomic64_fetch_add
#define arch_atomic64_fetch_sub		arch_atomic64_fetch_sub
#define arch_atomic64_fetch_and		arch_atomic64_fetch_and
#define arch_atomic64_fetch_or		arch_atomic64_fetch_or
#define arch_atomic64_fetch_xor		arch_atomic64_fetch_xor
#define arch_atomic64_add_return	arch_atomic64_add_return
#define arch_atomic64_sub_return	arch_atomic64_sub_return
#define ATOMIC64_INIT(i)		{ (i) }
#define arch_atomic64_read(v)		READ_ONCE((v)->counter)
#define arch_atomic64_set(v, i)		WRITE_ONCE(((v)->counter), (i))

#endif
