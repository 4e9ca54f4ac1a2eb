// SPDX-License-Identifier: GPL-2.0
/*
 * crc32c (Castagnoli) with the host CPU's crc32 instruction.
 *
 * The generic driver (crypto/crc32c_generic.c) computes crc32c from
 * tables, eight bytes per round of lookups; on btrfs that took about a
 * tenth of fs2tar's time, where the host kernel spends almost nothing,
 * having the CPU do it.  x86-64 CPUs with SSE4.2 fold eight bytes into
 * the remainder with one crc32q.  Our kernel runs in an ordinary host
 * process, so the instruction, which works on general purpose registers
 * only, needs no FPU state to be saved around it: CPUID is the only check.
 *
 * Registered as "crc32c-lkl", above the generic driver's priority, it is
 * what crypto_alloc_shash("crc32c") gives btrfs, ext4's metadata_csum and
 * lib/libcrc32c (xfs, btrfs's name hashes).  Its name lacking "generic",
 * btrfs also takes it for a fast one and checksums writes as it submits
 * them rather than through a workqueue.  On a CPU without SSE4.2, on
 * another host architecture, or should the self-test below fail, nothing
 * is registered and the generic driver serves as before.
 */
#include <crypto/internal/hash.h>
#include <linux/bitops.h>
#include <linux/crc32.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/unaligned.h>

#ifdef __x86_64__

/*
 * A crc32q has a latency of about three cycles but can start every cycle,
 * so one stream of data leaves the unit mostly idle.  Buffers of at least
 * three blocks are checksummed as three independent streams, one per
 * block, whose remainders are then joined.  A block of 1360 bytes makes
 * three of them 4080: btrfs's 4 KiB sectors and 16 KiB nodes, ext4's and
 * xfs's 4 KiB blocks go almost entirely through the interleaved loop.
 */
#define CRC32C_LKL_BLOCK	1360

/*
 * The remainder after a block of zeros, as a function of the remainder
 * before it, is linear over GF(2): it is the XOR of one table entry per
 * byte of the remainder before.  That is how a stream's remainder is
 * carried across the blocks that follow it.
 */
static u32 shift_table[4][256] __ro_after_init;

static inline u64 crc32c_u8(u64 crc, u8 byte)
{
	asm("crc32b %1, %k0" : "+r" (crc) : "rm" (byte));
	return crc;
}

static inline u64 crc32c_u64(u64 crc, u64 word)
{
	asm("crc32q %1, %0" : "+r" (crc) : "rm" (word));
	return crc;
}

/* One stream; the crc is the raw remainder, neither seeded nor inverted. */
static u32 crc32c_serial(u32 crc, const u8 *p, size_t len)
{
	u64 c = crc;

	for (; len >= 8; p += 8, len -= 8)
		c = crc32c_u64(c, get_unaligned_le64(p));
	while (len--)
		c = crc32c_u8(c, *p++);
	return c;
}

static u32 shift_block(u32 crc)
{
	return shift_table[0][crc & 0xff] ^
	       shift_table[1][(crc >> 8) & 0xff] ^
	       shift_table[2][(crc >> 16) & 0xff] ^
	       shift_table[3][crc >> 24];
}

static u32 crc32c_lkl(u32 crc, const u8 *p, size_t len)
{
	const size_t b = CRC32C_LKL_BLOCK;

	while (len >= 3 * b) {
		u64 c0 = crc, c1 = 0, c2 = 0;
		const u8 *q;

		for (q = p; q < p + b; q += 8) {
			c0 = crc32c_u64(c0, get_unaligned_le64(q));
			c1 = crc32c_u64(c1, get_unaligned_le64(q + b));
			c2 = crc32c_u64(c2, get_unaligned_le64(q + 2 * b));
		}
		/*
		 * The remainder of A B from crc is that of A from crc carried
		 * across |B| zeros, XOR that of B from zero; likewise for C.
		 */
		crc = shift_block(shift_block(c0) ^ c1) ^ c2;
		p += 3 * b;
		len -= 3 * b;
	}
	return crc32c_serial(crc, p, len);
}

static void __init make_shift_table(void)
{
	static const u8 zeros[CRC32C_LKL_BLOCK] __initconst;
	u32 bit[32];
	int i, k;

	for (i = 0; i < 32; i++)
		bit[i] = crc32c_serial(BIT(i), zeros, sizeof(zeros));
	/* By linearity, from the entry with the lowest set bit cleared. */
	for (k = 0; k < 4; k++) {
		shift_table[k][0] = 0;
		for (i = 1; i < 256; i++)
			shift_table[k][i] = shift_table[k][i & (i - 1)] ^
					    bit[8 * k + __ffs(i)];
	}
}

static bool __init cpu_has_crc32(void)
{
	u32 eax = 1, ebx, ecx = 0, edx;

	asm volatile("cpuid"
		     : "+a" (eax), "=b" (ebx), "+c" (ecx), "=d" (edx));
	return ecx & BIT(20);	/* leaf 1, ECX bit 20: SSE4.2 */
}

/*
 * The crypto manager's tests are compiled out of our kernel, so check
 * here, against the table-driven code the generic driver uses: every
 * length up to 64 at every alignment (the byte and word tails), and
 * lengths around one and two rounds of the interleaved loop.
 */
static bool __init crc32c_lkl_self_test(void)
{
	static const size_t long_lens[] __initconst = {
		3 * CRC32C_LKL_BLOCK - 1, 3 * CRC32C_LKL_BLOCK,
		3 * CRC32C_LKL_BLOCK + 9, 4096, 6 * CRC32C_LKL_BLOCK + 13,
	};
	const size_t size = 6 * CRC32C_LKL_BLOCK + 13 + 8;
	u32 seed = 0x9e3779b9;
	bool ok = true;
	size_t i, j, len;
	u8 *buf;

	if (~crc32c_lkl(~0, (const u8 *)"123456789", 9) != 0xe3069283)
		return false;
	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return false;
	for (i = 0; i < size; i++) {
		seed = seed * 1664525 + 1013904223;
		buf[i] = seed >> 24;
	}
	for (len = 0; len <= 64 && ok; len++)
		for (i = 0; i < 8 && ok; i++)
			ok = crc32c_lkl(seed, buf + i, len) ==
			     __crc32c_le_base(seed, buf + i, len);
	for (j = 0; j < ARRAY_SIZE(long_lens) && ok; j++)
		for (i = 0; i < 8 && ok; i += 3)
			ok = crc32c_lkl(seed, buf + i, long_lens[j]) ==
			     __crc32c_le_base(seed, buf + i, long_lens[j]);
	kfree(buf);
	return ok;
}

/* The tfm holds the seed (a key, optional), the desc the running crc. */
struct crc32c_lkl_key {
	u32 seed;
};

struct crc32c_lkl_state {
	u32 crc;
};

static int crc32c_lkl_cra_init(struct crypto_tfm *tfm)
{
	struct crc32c_lkl_key *key = crypto_tfm_ctx(tfm);

	key->seed = ~0;
	return 0;
}

static int crc32c_lkl_setkey(struct crypto_shash *tfm, const u8 *in,
			     unsigned int keylen)
{
	struct crc32c_lkl_key *key = crypto_shash_ctx(tfm);

	if (keylen != sizeof(key->seed))
		return -EINVAL;
	key->seed = get_unaligned_le32(in);
	return 0;
}

static int crc32c_lkl_init(struct shash_desc *desc)
{
	struct crc32c_lkl_key *key = crypto_shash_ctx(desc->tfm);
	struct crc32c_lkl_state *state = shash_desc_ctx(desc);

	state->crc = key->seed;
	return 0;
}

static int crc32c_lkl_update(struct shash_desc *desc, const u8 *data,
			     unsigned int len)
{
	struct crc32c_lkl_state *state = shash_desc_ctx(desc);

	state->crc = crc32c_lkl(state->crc, data, len);
	return 0;
}

static int crc32c_lkl_final(struct shash_desc *desc, u8 *out)
{
	struct crc32c_lkl_state *state = shash_desc_ctx(desc);

	put_unaligned_le32(~state->crc, out);
	return 0;
}

static int crc32c_lkl_finup(struct shash_desc *desc, const u8 *data,
			    unsigned int len, u8 *out)
{
	struct crc32c_lkl_state *state = shash_desc_ctx(desc);

	put_unaligned_le32(~crc32c_lkl(state->crc, data, len), out);
	return 0;
}

static int crc32c_lkl_digest(struct shash_desc *desc, const u8 *data,
			     unsigned int len, u8 *out)
{
	struct crc32c_lkl_key *key = crypto_shash_ctx(desc->tfm);

	put_unaligned_le32(~crc32c_lkl(key->seed, data, len), out);
	return 0;
}

/*
 * ext4 and lib/libcrc32c read and write the running crc as the desc's
 * only u32 (the generic driver's layout): descsize must stay 4.
 */
static struct shash_alg crc32c_lkl_alg = {
	.digestsize		= 4,
	.setkey			= crc32c_lkl_setkey,
	.init			= crc32c_lkl_init,
	.update			= crc32c_lkl_update,
	.final			= crc32c_lkl_final,
	.finup			= crc32c_lkl_finup,
	.digest			= crc32c_lkl_digest,
	.descsize		= sizeof(struct crc32c_lkl_state),
	.base = {
		.cra_name		= "crc32c",
		.cra_driver_name	= "crc32c-lkl",
		/* above crc32c-generic's 100 */
		.cra_priority		= 200,
		.cra_flags		= CRYPTO_ALG_OPTIONAL_KEY,
		.cra_blocksize		= 1,
		.cra_ctxsize		= sizeof(struct crc32c_lkl_key),
		.cra_module		= THIS_MODULE,
		.cra_init		= crc32c_lkl_cra_init,
	},
};

/*
 * A subsys initcall, as crc32c-generic's: registered before any user
 * looks "crc32c" up, lib/libcrc32c's device initcall included.
 */
static int __init crc32c_lkl_mod_init(void)
{
	if (!cpu_has_crc32()) {
		pr_info("crc32c-lkl: no SSE4.2 crc32 instruction, crc32c-generic serves\n");
		return 0;
	}
	make_shift_table();
	if (!crc32c_lkl_self_test()) {
		pr_err("crc32c-lkl: self-test failed, crc32c-generic serves\n");
		return 0;
	}
	return crypto_register_shash(&crc32c_lkl_alg);
}
subsys_initcall(crc32c_lkl_mod_init);

#endif /* __x86_64__ */
