/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The one contract between the kernel side (linux/arch/lkl) and the host
 * side (native/).  Neither side includes the other's headers except this
 * one, so it uses only basic C types and lkl_-prefixed names.
 */
#ifndef _ASM_UAPI_LKL_HOST_OPS_H
#define _ASM_UAPI_LKL_HOST_OPS_H

struct lkl_sem;
struct lkl_mutex;
struct lkl_tls_key;
struct lkl_timer;
typedef unsigned long lkl_thread_t;

/* Large enough for glibc's jmp_buf on x86-64 (200 bytes) and arm64 (312). */
struct lkl_jmp_buf {
	unsigned long buf[64];
};

/**
 * struct lkl_host_ops - services the host gives the kernel
 *
 * @print: write console output; may be NULL to stay silent
 * @panic: called once the kernel has panicked; must not return
 * @sem_alloc/@sem_free/@sem_up/@sem_down: counting semaphores
 * @mutex_alloc/@mutex_free/@mutex_lock/@mutex_unlock: plain host mutexes
 * @thread_create: start a host thread running @fn(@arg) with every signal
 *	blocked; returns 0 on failure
 * @thread_detach: detach the calling thread, so it needs no join
 * @thread_exit: end the calling thread; never returns
 * @thread_join: wait for a thread that was not detached
 * @thread_self: identity of the calling thread
 * @tls_alloc/@tls_free/@tls_set/@tls_get: thread-local storage keys;
 *	the destructor runs when a thread with a non-NULL value exits
 * @mem_alloc/@mem_free: page-aligned memory for the kernel's RAM
 * @mem_alias: map the @count pages of RAM at page offsets @pages (from
 *	the RAM's start) side by side at an address of the host's choosing;
 *	NULL if it cannot.  May be NULL: vmap() then fails
 * @mem_unalias: undo a @mem_alias of @count pages at @addr
 * @time_ns: host monotonic clock, in nanoseconds
 * @realtime_ns: host wall clock (CLOCK_REALTIME), in nanoseconds
 * @timer_alloc: a one-shot timer calling @fn(@arg) on a host thread
 * @timer_set_oneshot: (re)arm the timer to fire once after @delta_ns
 * @timer_free: disarm and free; the callback never runs after it returns
 * @jmp_buf_set: save the calling context in @jb, then call @f; returns
 *	when @f returns or when jmp_buf_longjmp(@jb) is called
 * @jmp_buf_longjmp: return to the context saved by jmp_buf_set
 * @memcpy/@memset/@memmove: the host's optimised versions; the kernel's
 *	generic C ones copy a byte at a time.  May be NULL.
 */
struct lkl_host_ops {
	void (*print)(const char *str, int len);
	void (*panic)(void);

	struct lkl_sem *(*sem_alloc)(int count);
	void (*sem_free)(struct lkl_sem *sem);
	void (*sem_up)(struct lkl_sem *sem);
	void (*sem_down)(struct lkl_sem *sem);

	struct lkl_mutex *(*mutex_alloc)(void);
	void (*mutex_free)(struct lkl_mutex *mutex);
	void (*mutex_lock)(struct lkl_mutex *mutex);
	void (*mutex_unlock)(struct lkl_mutex *mutex);

	lkl_thread_t (*thread_create)(void (*fn)(void *), void *arg);
	void (*thread_detach)(void);
	void (*thread_exit)(void);
	int (*thread_join)(lkl_thread_t tid);
	lkl_thread_t (*thread_self)(void);

	struct lkl_tls_key *(*tls_alloc)(void (*destructor)(void *));
	void (*tls_free)(struct lkl_tls_key *key);
	int (*tls_set)(struct lkl_tls_key *key, void *data);
	void *(*tls_get)(struct lkl_tls_key *key);

	void *(*mem_alloc)(unsigned long size);
	void (*mem_free)(void *mem);
	void *(*mem_alias)(const unsigned long *pages, unsigned int count);
	void (*mem_unalias)(void *addr, unsigned int count);

	unsigned long long (*time_ns)(void);
	unsigned long long (*realtime_ns)(void);

	struct lkl_timer *(*timer_alloc)(void (*fn)(void *), void *arg);
	int (*timer_set_oneshot)(struct lkl_timer *timer, unsigned long long delta_ns);
	void (*timer_free)(struct lkl_timer *timer);

	void (*jmp_buf_set)(struct lkl_jmp_buf *jb, void (*f)(void));
	void (*jmp_buf_longjmp)(struct lkl_jmp_buf *jb, int val);

	void *(*memcpy)(void *dest, const void *src, unsigned long count);
	void *(*memset)(void *s, int c, unsigned long count);
	void *(*memmove)(void *dest, const void *src, unsigned long count);
};

/* Block requests the kernel hands to a host disk backend. */
enum lkl_blk_op {
	LKL_BLK_READ = 0,
	LKL_BLK_WRITE = 1,
	LKL_BLK_FLUSH = 2,	/* make every completed write durable */
	LKL_BLK_DISCARD = 3,	/* the range may read back as anything */
	LKL_BLK_WRITE_ZEROES = 4,
};

struct lkl_blk_seg {
	void *base;
	unsigned long len;
};

/**
 * struct lkl_blk_req - one block request
 * @op: an enum lkl_blk_op
 * @fua: for writes, the data must be durable before completion
 * @offset: byte offset on the disk
 * @len: total bytes (sum of the segments' lengths, or the discarded size)
 * @nsegs/@segs: the memory to read into or write from
 * @error: set by the host before completion: 0 or a negative errno
 * @next: free for the host's queueing until it completes the request
 */
struct lkl_blk_req {
	unsigned int op;
	unsigned int fua;
	unsigned long long offset;
	unsigned long long len;
	unsigned int nsegs;
	struct lkl_blk_seg *segs;
	int error;
	struct lkl_blk_req *next;
};

/**
 * struct lkl_disk - a host disk offered to the kernel
 * @capacity: size in bytes (a multiple of 512)
 * @read_only: the kernel sees a read-only device
 * @priv: the backend's own pointer, passed back to @submit
 * @submit: start a request; the backend calls lkl_blk_complete() once it
 *	is done, from any thread.  Must not wait for the I/O itself.
 * @try_now: optional, tried before @submit: do @req at once if that needs
 *	no wait for the host's disk (the host's page cache holds it), and
 *	return 0 with @req->error set; else return -EAGAIN, untouched but
 *	maybe for the memory of a read, and @submit follows.  It runs on the
 *	kernel's CPU: it must never block.
 */
struct lkl_disk {
	unsigned long long capacity;
	int read_only;
	void *priv;
	void (*submit)(void *priv, struct lkl_blk_req *req);
	int (*try_now)(void *priv, struct lkl_blk_req *req);
};

/*
 * The kernel's entry points, the only global symbols of lkl.o.
 *
 * lkl_calls_stop() begins a halt: the calls other host threads are inside
 * end (as a killed process's would: -EINTR from a wait or a long loop, or
 * the bytes done so far), their later calls fail at once with -EINTR, and
 * it returns once none is left.  Only the thread that called it may make
 * calls then, until lkl_halt() (which does the same first, if needed),
 * after which every call fails with -EINTR.  Not a reason to retry.
 */
int lkl_start_kernel(const struct lkl_host_ops *ops, const char *cmdline);
long lkl_syscall(long no, long *params);
long lkl_calls_stop(void);
long lkl_halt(void);
int lkl_disk_add(const struct lkl_disk *disk, char *name, int name_len);
int lkl_disk_remove(const char *name);
void lkl_blk_complete(struct lkl_blk_req *req);

#endif /* _ASM_UAPI_LKL_HOST_OPS_H */

/*
 * The network build's part (linux/lkl-net.config, LKL_VARIANT=net): only
 * where it is asked for, with LKL_NETDEV_API defined before this header
 * is included.  The filesystem-only lkl.o has none of these functions,
 * so code that calls them says so; and the many kernel files that see
 * this header through <asm/processor.h> compile as they did without it.
 */
#if defined(LKL_NETDEV_API) && !defined(_ASM_UAPI_LKL_HOST_OPS_NET_H)
#define _ASM_UAPI_LKL_HOST_OPS_NET_H

/*
 * Network devices: a host backend (a tap, a packet socket) moving whole
 * Ethernet frames.  The kernel sends and receives on its own CPU through
 * @tx and @rx, which must not block; when one has nothing to give (-EAGAIN)
 * the kernel calls @arm, and the backend watches its host side from a
 * thread of its own until it could go on, then calls lkl_netdev_event().
 */
#define LKL_NET_RX	1	/* a frame can be read */
#define LKL_NET_TX	2	/* a frame can be written again */

/* The classic "offload" mask: virtio-net feature bits. */
#define LKL_VIRTIO_NET_F_CSUM		0	/* takes frames with partial checksums */
#define LKL_VIRTIO_NET_F_GUEST_CSUM	1	/* gives frames with partial checksums */
#define LKL_VIRTIO_NET_F_GUEST_TSO4	7	/* gives TCPv4 frames of up to 64 KiB */
#define LKL_VIRTIO_NET_F_GUEST_TSO6	8	/* gives TCPv6 frames of up to 64 KiB */
#define LKL_VIRTIO_NET_F_HOST_TSO4	11	/* takes TCPv4 frames of up to 64 KiB */
#define LKL_VIRTIO_NET_F_HOST_TSO6	12	/* takes TCPv6 frames of up to 64 KiB */
#define LKL_VIRTIO_NET_F_MRG_RXBUF	15	/* gives frames of up to 64 KiB */

/* Bytes of the struct virtio_net_hdr before each frame when @vnet_hdr. */
#define LKL_NET_VNET_HDR_LEN	10

struct lkl_net_iov {
	void *base;
	unsigned long len;
};

/**
 * struct lkl_netdev - a host network backend offered to the kernel
 * @priv: the backend's own pointer, passed back to each operation
 * @mac: the interface's address; all zeroes for a random one
 * @mtu: 0 for 1500
 * @vnet_hdr: each frame, both ways, starts with a little-endian struct
 *	virtio_net_hdr (LKL_NET_VNET_HDR_LEN bytes); else @offload is 0
 * @offload: 1 << LKL_VIRTIO_NET_F_* for what the backend honours
 * @tx: send one frame gathered from @iov; its length, -EAGAIN when the
 *	host side is full, or another negative errno (the frame is lost)
 * @rx: read one frame into @iov; its length, -EAGAIN when none waits,
 *	or another negative errno.  A frame longer than @iov is cut.
 * @arm: call lkl_netdev_event() once @events (LKL_NET_*) could go on,
 *	at once if they already can; any thread, once per call of @arm
 * @handle: the kernel's, set by lkl_netdev_add()
 *
 * The structure must live until lkl_netdev_remove() or the halt.
 */
struct lkl_netdev {
	void *priv;
	unsigned char mac[6];
	unsigned int mtu;
	int vnet_hdr;
	unsigned long long offload;
	long (*tx)(void *priv, const struct lkl_net_iov *iov, int count);
	long (*rx)(void *priv, const struct lkl_net_iov *iov, int count);
	void (*arm)(void *priv, int events);
	void *handle;
};

/*
 * lkl_netdev_add() makes an interface, eth0, eth1, ..., down, and returns
 * its ifindex, its name in @name.  Called before lkl_start_kernel(), it
 * returns 0 and the interface is registered during boot, in the order
 * given, where ip= on the command line finds it.  lkl_netdev_event() may
 * be called from any thread.
 */
int lkl_netdev_add(struct lkl_netdev *nd, char *name, int name_len);
int lkl_netdev_remove(struct lkl_netdev *nd);
void lkl_netdev_event(struct lkl_netdev *nd, int events);

#endif /* LKL_NETDEV_API */
