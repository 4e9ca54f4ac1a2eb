// SPDX-License-Identifier: GPL-2.0
/*
 * The inode table: FUSE node IDs to the kernel's inodes, with lookup
 * counts, hashed by (device, inode number) so that every name of one
 * inode is one node.
 *
 * A node reaches its inode through an O_PATH descriptor.  One descriptor
 * per node FUSE knows cannot work: the host may remember hundreds of
 * thousands of inodes, and each descriptor pins an inode, a dentry and a
 * file in our kernel's memory (128 MiB by default) and takes a slot in a
 * descriptor table that must be one contiguous allocation (no MMU).
 * Creating 75,000 files once left the kernel reclaiming forever.  So at
 * most max_fds descriptors stay open: when there are more, the least
 * recently used idle node's is closed, once its inode's file handle
 * (name_to_handle_at) is known, and the node reopens it from the handle
 * (open_by_handle_at) when it is used again.
 *
 * That needs handles that find an inode after it has left memory, which
 * ext2/3/4, btrfs and xfs give, and vfat only when mounted nfs=nostale_ro
 * (read-only); otherwise it finds only inodes still cached.  Without them
 * a node keeps its descriptor until FUSE forgets it, and past max_fds the
 * host is asked to forget the least recently used idle nodes, by the
 * names they were looked up by (forget.c).
 *
 * While a node's descriptor is open its inode number cannot be reused.
 * Once it is closed the inode may be deleted and its number reused, so a
 * lookup that finds a closed node compares handles: if they differ, the
 * old node is stale.  It leaves the hash to a new node and its own uses
 * fail with ESTALE, like its handle.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lklfuse.h"
#include "../kernel/kcall.h"

#define INITIAL_BUCKETS		1024

static uint64_t stx_dev(const struct lkl_statx *stx)
{
	return (uint64_t)stx->stx_dev_major << 32 | stx->stx_dev_minor;
}

static size_t bucket_of(const struct lklfuse_inodes *t, uint64_t dev,
			uint64_t ino)
{
	uint64_t h = (ino ^ dev * 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;

	return (h ^ h >> 32) & (t->nbuckets - 1);
}

static void hash_insert(struct lklfuse_inodes *t, struct lklfuse_node *node)
{
	size_t b = bucket_of(t, node->dev, node->ino);

	node->hash_next = t->buckets[b];
	t->buckets[b] = node;
	node->hashed = true;
	t->count++;
}

static void hash_remove(struct lklfuse_inodes *t, struct lklfuse_node *node)
{
	struct lklfuse_node **p;

	if (!node->hashed)
		return;
	p = &t->buckets[bucket_of(t, node->dev, node->ino)];
	while (*p && *p != node)
		p = &(*p)->hash_next;
	if (*p) {
		*p = node->hash_next;
		t->count--;
	}
	node->hashed = false;
}

static struct lklfuse_node *hash_find(struct lklfuse_inodes *t, uint64_t dev,
				      uint64_t ino)
{
	struct lklfuse_node *n = t->buckets[bucket_of(t, dev, ino)];

	while (n && !(n->ino == ino && n->dev == dev))
		n = n->hash_next;
	return n;
}

/* Twice the buckets; on failure the table just stays as it is. */
static void hash_grow(struct lklfuse_inodes *t)
{
	size_t old = t->nbuckets, i;
	struct lklfuse_node **oldb = t->buckets;
	struct lklfuse_node **nb = calloc(old * 2, sizeof(*nb));

	if (!nb)
		return;
	t->buckets = nb;
	t->nbuckets = old * 2;
	t->count = 0;
	for (i = 0; i < old; i++) {
		struct lklfuse_node *n = oldb[i], *next;

		for (; n; n = next) {
			next = n->hash_next;
			hash_insert(t, n);
		}
	}
	free(oldb);
}

/* The least recently used idle nodes with a descriptor: newest first. */
static void lru_add(struct lklfuse_inodes *t, struct lklfuse_node *n)
{
	n->lru_next = t->lru.lru_next;
	n->lru_prev = &t->lru;
	n->lru_next->lru_prev = n;
	t->lru.lru_next = n;
}

static void lru_del(struct lklfuse_node *n)
{
	if (!n->lru_next)
		return;
	n->lru_prev->lru_next = n->lru_next;
	n->lru_next->lru_prev = n->lru_prev;
	n->lru_next = n->lru_prev = NULL;
}

/*
 * With the lock held, after a node's users, opens or lookups dropped: an
 * idle node goes on the LRU list; a forgotten one nobody uses is unhooked
 * (its descriptor counted closed) for the caller to free: true.
 */
static bool node_settle(struct lklfuse_inodes *t, struct lklfuse_node *n)
{
	if (n->users || n->opens)
		return false;
	if (!n->nlookup && n != &t->root) {
		lru_del(n);
		if (n->fd >= 0)
			t->nfds--;
		if (n->asked)
			t->asked--;
		return true;
	}
	if (n->fd >= 0 && !n->pinned && !n->lru_next)
		lru_add(t, n);
	return false;
}

static void node_free(struct lklfuse_node *n)
{
	if (n->fd >= 0)
		k_close(n->fd);
	free(n->handle);
	free(n->name);
	free(n);
}

/* Settle @n (see node_settle()), drop the lock, and free @n if it died. */
static void node_settle_unlock(struct lklfuse_inodes *t,
			       struct lklfuse_node *n)
{
	bool dead = node_settle(t, n);

	pthread_mutex_unlock(&t->lock);
	if (dead)
		node_free(n);
}

/* With the lock held: remember @name in @parent, without lasting handles. */
static void node_name(struct lklfuse_inodes *t, struct lklfuse_node *n,
		      fuse_ino_t parent, const char *name)
{
	char *copy;

	if (t->handles || !name)
		return;
	if (n->name && n->parent == parent && !strcmp(n->name, name))
		return;
	copy = strdup(name);
	if (!copy)
		return;	/* it keeps the old name: the host may not forget it */
	free(n->name);
	n->name = copy;
	n->parent = parent;
}

/* With the lock held: the host uses @n again, asked to forget it or not. */
static void node_used(struct lklfuse_inodes *t, struct lklfuse_node *n)
{
	if (n->asked) {
		n->asked = false;
		t->asked--;
	}
}

/* The file handle of what @fd refers to, or NULL. */
static struct k_file_handle *handle_of(int fd)
{
	union {
		struct k_file_handle h;
		unsigned char room[sizeof(struct k_file_handle) +
				   K_MAX_HANDLE_SZ];
	} buf;
	struct k_file_handle *h;
	int mount_id;

	buf.h.bytes = K_MAX_HANDLE_SZ;
	if (k_name_to_handle(fd, &buf.h, &mount_id) < 0)
		return NULL;
	h = malloc(sizeof(*h) + buf.h.bytes);
	if (h)
		memcpy(h, &buf.h, sizeof(*h) + buf.h.bytes);
	return h;
}

static bool same_handle(const struct k_file_handle *a,
			const struct k_file_handle *b)
{
	return a && b && a->bytes == b->bytes && a->type == b->type &&
	       !memcmp(a->f, b->f, a->bytes);
}

/* Close idle descriptors, oldest first, until at most max_fds are open. */
static void evict(struct lklfuse_inodes *t)
{
	if (!t->handles) {
		pthread_mutex_lock(&t->lock);
		if (t->nfds > t->max_fds)
			pthread_cond_signal(&t->crowded);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	for (;;) {
		struct lklfuse_node *v;
		struct k_file_handle *h;
		int close_fd = -1;
		bool dead;

		pthread_mutex_lock(&t->lock);
		v = t->lru.lru_prev;
		if (t->nfds <= t->max_fds || v == &t->lru) {
			pthread_mutex_unlock(&t->lock);
			return;
		}
		lru_del(v);
		/* Held: nobody frees it or uses the fd we are about to close. */
		v->users++;
		h = v->handle;
		pthread_mutex_unlock(&t->lock);

		if (!h)
			h = handle_of(v->fd);

		pthread_mutex_lock(&t->lock);
		v->users--;
		if (!v->handle)
			v->handle = h;
		else if (h != v->handle)
			free(h);
		if (!v->handle)
			v->pinned = true;	/* no handle: keep it open */
		if (!v->users && !v->opens && v->handle && v->fd >= 0) {
			close_fd = v->fd;
			v->fd = -1;
			t->nfds--;
		}
		dead = node_settle(t, v);
		pthread_mutex_unlock(&t->lock);
		if (close_fd >= 0)
			k_close(close_fd);
		if (dead)
			node_free(v);
	}
}

int lklfuse_inodes_init(struct lklfuse_inodes *t, int root_fd,
			const struct lkl_statx *stx, bool handles,
			size_t max_fds)
{
	long r;
	int err;

	memset(t, 0, sizeof(*t));
	/* open_by_handle_at() wants a real descriptor, not an O_PATH one. */
	r = k_openat(root_fd, ".", LKL_O_RDONLY | LKL_O_DIRECTORY |
		     LKL_O_CLOEXEC, 0);
	if (r < 0)
		return r;
	t->mount_fd = r;
	err = pthread_mutex_init(&t->lock, NULL);
	if (err) {
		k_close(t->mount_fd);
		return -err;
	}
	err = pthread_cond_init(&t->crowded, NULL);
	if (err) {
		pthread_mutex_destroy(&t->lock);
		k_close(t->mount_fd);
		return -err;
	}
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets) {
		pthread_cond_destroy(&t->crowded);
		pthread_mutex_destroy(&t->lock);
		k_close(t->mount_fd);
		return -ENOMEM;
	}
	t->nbuckets = INITIAL_BUCKETS;
	t->lru.lru_next = t->lru.lru_prev = &t->lru;
	t->handles = handles;
	t->max_fds = max_fds;
	t->root.fd = root_fd;
	t->root.ino = stx->stx_ino;
	t->root.dev = stx_dev(stx);
	t->root.nlookup = 1;
	t->root.pinned = true;
	t->nfds = 1;
	hash_insert(t, &t->root);
	return 0;
}

void lklfuse_inodes_destroy(struct lklfuse_inodes *t)
{
	size_t i;

	if (!t->buckets)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		struct lklfuse_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->hash_next;
			if (n == &t->root)
				k_close(n->fd);
			else
				node_free(n);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	k_close(t->mount_fd);
	pthread_cond_destroy(&t->crowded);
	pthread_mutex_destroy(&t->lock);
}

/*
 * How many more nodes to ask the host about: down to three quarters of
 * max_fds, counting those asked about already (their FORGETs may still be
 * on the way).
 */
static size_t to_ask(const struct lklfuse_inodes *t)
{
	size_t low = t->max_fds - t->max_fds / 4;

	if (t->nfds <= t->max_fds || t->nfds <= t->asked + low)
		return 0;
	return t->nfds - t->asked - low;
}

size_t lklfuse_inodes_crowded(struct lklfuse_inodes *t,
			      struct lklfuse_name *out, size_t max)
{
	struct lklfuse_node *n, *prev, *first = NULL;
	size_t count = 0, want;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		want = to_ask(t);
		if (want > max)
			want = max;
		for (n = t->lru.lru_prev; n != &t->lru && n != first &&
		     count < want; n = prev) {
			prev = n->lru_prev;
			if (!n->name || n->asked)
				continue;
			out[count].name = strdup(n->name);
			if (!out[count].name)
				break;
			out[count].parent = n->parent;
			count++;
			n->asked = true;
			t->asked++;
			/* Not again before the others. */
			lru_del(n);
			lru_add(t, n);
			if (!first)
				first = n;
		}
		if (count)
			break;
		/* Nothing (idle) to ask about: wait for the next new node. */
		pthread_cond_wait(&t->crowded, &t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return count;
}

void lklfuse_inodes_stop(struct lklfuse_inodes *t)
{
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_cond_broadcast(&t->crowded);
	pthread_mutex_unlock(&t->lock);
}

struct lklfuse_node *lklfuse_node(struct lklfuse_inodes *t, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &t->root;
	return (struct lklfuse_node *)(uintptr_t)ino;
}

fuse_ino_t lklfuse_node_id(struct lklfuse_inodes *t,
			   const struct lklfuse_node *node)
{
	if (node == &t->root)
		return FUSE_ROOT_ID;
	return (fuse_ino_t)(uintptr_t)node;
}

int lklfuse_inodes_add(struct lklfuse_inodes *t, int fd,
		       const struct lkl_statx *stx, fuse_ino_t parent,
		       const char *name, struct lklfuse_node **out)
{
	uint64_t dev = stx_dev(stx);
	struct lklfuse_node *n, *fresh = malloc(sizeof(*fresh));
	struct k_file_handle *h = NULL;
	bool have_handle = false;

again:
	pthread_mutex_lock(&t->lock);
	n = hash_find(t, dev, stx->stx_ino);
	if (n && n->fd < 0) {
		/* Closed: the same inode, or a new one with its number? */
		if (!have_handle) {
			pthread_mutex_unlock(&t->lock);
			h = handle_of(fd);
			have_handle = true;
			goto again;
		}
		if (same_handle(h, n->handle)) {
			n->fd = fd;
			t->nfds++;
			n->nlookup++;
			node_settle(t, n);
			pthread_mutex_unlock(&t->lock);
			free(h);
			free(fresh);
			evict(t);
			*out = n;
			return 0;
		}
		hash_remove(t, n);
		n = NULL;
	}
	if (n) {
		n->nlookup++;
		node_used(t, n);
		node_name(t, n, parent, name);
		pthread_mutex_unlock(&t->lock);
		free(h);
		free(fresh);
		k_close(fd);
		*out = n;
		return 0;
	}
	if (!fresh) {
		pthread_mutex_unlock(&t->lock);
		free(h);
		k_close(fd);
		return -ENOMEM;
	}
	memset(fresh, 0, sizeof(*fresh));
	fresh->ino = stx->stx_ino;
	fresh->dev = dev;
	fresh->fd = fd;
	fresh->handle = h;
	fresh->nlookup = 1;
	fresh->generation = ++t->generation;
	node_name(t, fresh, parent, name);
	if (t->count >= t->nbuckets)
		hash_grow(t);
	hash_insert(t, fresh);
	t->nfds++;
	node_settle(t, fresh);
	pthread_mutex_unlock(&t->lock);
	evict(t);
	*out = fresh;
	return 0;
}

void lklfuse_node_ref(struct lklfuse_inodes *t, struct lklfuse_node *node)
{
	pthread_mutex_lock(&t->lock);
	node->nlookup++;
	pthread_mutex_unlock(&t->lock);
}

void lklfuse_node_forget(struct lklfuse_inodes *t, struct lklfuse_node *node,
			 uint64_t n)
{
	pthread_mutex_lock(&t->lock);
	node->nlookup = n < node->nlookup ? node->nlookup - n : 0;
	if (!node->nlookup && node != &t->root)
		hash_remove(t, node);
	node_settle_unlock(t, node);
}

int lklfuse_node_get(struct lklfuse_inodes *t, struct lklfuse_node *node)
{
	struct k_file_handle *h;
	int fd, extra = -1;
	long r;
	bool dead;

	pthread_mutex_lock(&t->lock);
	if (node->fd >= 0) {
		lru_del(node);
		node_used(t, node);
		node->users++;
		fd = node->fd;
		pthread_mutex_unlock(&t->lock);
		return fd;
	}
	/* Stale: its number belongs to another inode now. */
	h = node->hashed ? node->handle : NULL;
	node->users++;
	pthread_mutex_unlock(&t->lock);

	r = h ? k_open_by_handle(t->mount_fd, h, LKL_O_PATH | LKL_O_CLOEXEC) :
		-ESTALE;

	pthread_mutex_lock(&t->lock);
	if (r >= 0 && node->fd < 0) {
		node->fd = r;
		t->nfds++;
	} else if (r >= 0) {
		extra = r;	/* another request reopened it first */
	}
	fd = node->fd;
	dead = false;
	if (fd < 0) {
		node->users--;
		dead = node_settle(t, node);
	}
	pthread_mutex_unlock(&t->lock);
	if (extra >= 0)
		k_close(extra);
	if (dead)
		node_free(node);
	if (fd < 0)
		return r < 0 ? r : -ESTALE;
	evict(t);
	return fd;
}

void lklfuse_node_put(struct lklfuse_inodes *t, struct lklfuse_node *node)
{
	pthread_mutex_lock(&t->lock);
	node->users--;
	node_settle_unlock(t, node);
}

void lklfuse_node_open(struct lklfuse_inodes *t, struct lklfuse_node *node)
{
	pthread_mutex_lock(&t->lock);
	node->opens++;
	lru_del(node);
	pthread_mutex_unlock(&t->lock);
}

void lklfuse_node_close(struct lklfuse_inodes *t, struct lklfuse_node *node)
{
	pthread_mutex_lock(&t->lock);
	node->opens--;
	node_settle_unlock(t, node);
}
