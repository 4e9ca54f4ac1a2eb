// SPDX-License-Identifier: GPL-2.0
/*
 * The inode table: FUSE node IDs to O_PATH descriptors in the kernel, with
 * lookup counts, hashed by (device, inode number) so that every name of
 * one inode is one node.
 *
 * An inode number cannot be reused while a node exists: the node's
 * descriptor keeps the inode in memory, and with it its number allocated,
 * even after its last name is gone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lklfuse.h"
#include "kcall.h"

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
	t->count++;
}

static void hash_remove(struct lklfuse_inodes *t, struct lklfuse_node *node)
{
	struct lklfuse_node **p = &t->buckets[bucket_of(t, node->dev,
							 node->ino)];

	while (*p && *p != node)
		p = &(*p)->hash_next;
	if (*p) {
		*p = node->hash_next;
		t->count--;
	}
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

int lklfuse_inodes_init(struct lklfuse_inodes *t, int root_fd,
			const struct lkl_statx *stx)
{
	int err;

	memset(t, 0, sizeof(*t));
	err = pthread_mutex_init(&t->lock, NULL);
	if (err)
		return -err;
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets) {
		pthread_mutex_destroy(&t->lock);
		return -ENOMEM;
	}
	t->nbuckets = INITIAL_BUCKETS;
	t->root.fd = root_fd;
	t->root.ino = stx->stx_ino;
	t->root.dev = stx_dev(stx);
	t->root.nlookup = 1;
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
			k_close(n->fd);
			if (n != &t->root)
				free(n);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	pthread_mutex_destroy(&t->lock);
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
		       const struct lkl_statx *stx, struct lklfuse_node **out)
{
	uint64_t dev = stx_dev(stx);
	struct lklfuse_node *n, *fresh = malloc(sizeof(*fresh));

	pthread_mutex_lock(&t->lock);
	for (n = t->buckets[bucket_of(t, dev, stx->stx_ino)]; n;
	     n = n->hash_next) {
		if (n->ino == stx->stx_ino && n->dev == dev)
			break;
	}
	if (n) {
		n->nlookup++;
		pthread_mutex_unlock(&t->lock);
		free(fresh);
		k_close(fd);
		*out = n;
		return 0;
	}
	if (!fresh) {
		pthread_mutex_unlock(&t->lock);
		k_close(fd);
		return -ENOMEM;
	}
	fresh->ino = stx->stx_ino;
	fresh->dev = dev;
	fresh->fd = fd;
	fresh->nlookup = 1;
	fresh->generation = ++t->generation;
	if (t->count >= t->nbuckets)
		hash_grow(t);
	hash_insert(t, fresh);
	pthread_mutex_unlock(&t->lock);
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
	bool gone = false;

	pthread_mutex_lock(&t->lock);
	node->nlookup = n < node->nlookup ? node->nlookup - n : 0;
	if (!node->nlookup && node != &t->root) {
		hash_remove(t, node);
		gone = true;
	}
	pthread_mutex_unlock(&t->lock);
	if (gone) {
		k_close(node->fd);
		free(node);
	}
}
