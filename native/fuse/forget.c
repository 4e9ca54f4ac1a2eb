// SPDX-License-Identifier: GPL-2.0
/*
 * Asking the host to forget inodes, for filesystems whose nodes cannot
 * close their descriptors (no lasting file handles: vfat).
 *
 * Each node FUSE knows holds a descriptor in the kernel library, and the
 * descriptor table must grow in one contiguous allocation: on vfat, new
 * files failed with ENOMEM past about 32,000 (16,000 with -o mb=32).  The
 * host only forgets an inode once its dentries are gone, so when more than
 * max_fds descriptors are open this thread asks it to drop the entries of
 * the least recently used idle nodes (FUSE_NOTIFY_INVAL_ENTRY).  An inode
 * nothing else holds is then evicted and FORGET closes its descriptor; one
 * still in use stays, and is asked about again only after the others.
 *
 * A thread of its own, because the host takes the directory's lock to
 * drop an entry: from a request handler that could wait for a request
 * that waits for us.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "lklfuse.h"

#define FORGET_BATCH	512

static void *forget_thread(void *arg)
{
	struct lklfuse *lf = arg;
	struct lklfuse_name names[FORGET_BATCH];
	size_t n, i;

	/*
	 * A name for ps, gdb and the test that looks for this thread
	 * (test/fuse/vfat-stop.test.mjs); it goes on without one.
	 */
	(void)pthread_setname_np(pthread_self(), "lklfuse-forget");
	while ((n = lklfuse_inodes_crowded(&lf->inodes, names,
					    FORGET_BATCH))) {
		for (i = 0; i < n; i++) {
			/*
			 * Best effort, its result of no use: ENOENT, the
			 * host had forgotten the name; ENODEV, it is
			 * unmounting; a node the host keeps counts as asked
			 * about until it is used again.
			 */
			fuse_lowlevel_notify_inval_entry(lf->se,
							 names[i].parent,
							 names[i].name,
							 strlen(names[i].name));
			free(names[i].name);
		}
	}
	return NULL;
}

int lklfuse_forget_start(struct lklfuse *lf)
{
	int err;

	if (lf->inodes.handles)
		return 0;
	if (!lklfuse_start_threads(&lf->forget_thread, 1, forget_thread, lf,
				   &err))
		return -err;
	lf->forget_started = true;
	return 0;
}

void lklfuse_forget_stop(struct lklfuse *lf)
{
	if (!lf->forget_started)
		return;
	lklfuse_inodes_stop(&lf->inodes);
	pthread_join(lf->forget_thread, NULL);
	lf->forget_started = false;
}
