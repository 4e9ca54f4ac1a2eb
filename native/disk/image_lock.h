/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lock an image's openers take, so that two of them never write it at
 * once, nor one read it while another writes: shared for a reader,
 * exclusive for a writer, over the whole file.
 *
 * They are open file description locks (F_OFD_SETLK): owned by the open
 * file, not the process, so that a second open in the same process (two
 * disks of one image in one kernel) conflicts as another process would,
 * the threads of a process share nothing by accident, and a child forked
 * after the open holds the lock with its parent until both have closed
 * the file.  They are advisory: they keep out only openers that lock the
 * whole file the same way, which are lkl's.  QEMU's locks are shared locks
 * on single bytes: our exclusive lock conflicts with them, our shared one
 * does not.
 */
#ifndef LKL_NATIVE_IMAGE_LOCK_H
#define LKL_NATIVE_IMAGE_LOCK_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Lock the file open as @fd: exclusive or shared, waiting for a
 * conflicting lock to go if @wait.  Returns 0, -EBUSY when another open
 * file holds a conflicting lock (and not @wait), -EINTR when a signal
 * ended the wait, or another negative errno.  Where the file's filesystem
 * has no such locks (-ENOLCK, -EINVAL, -EOPNOTSUPP: some network
 * filesystems), the file is used unlocked and 0 returned.
 */
int image_lock(int fd, bool exclusive, bool wait);

/* Who holds a lock on an image, as image_lock_holder() finds it. */
struct image_lock_holder {
	pid_t pid;
	bool writing;		/* an exclusive lock, a writer's */
	char comm[17];		/* the process's name, or "" */
};

/*
 * A process that holds a lock on the file @path names, as
 * /proc/PID/fdinfo shows it: 0 with *@h set, or -ENOENT when none can be
 * seen: another user's processes are hidden from a user without
 * CAP_SYS_PTRACE, and the holder may have just closed it.  It may be this
 * very process.
 */
int image_lock_holder(const char *path, struct image_lock_holder *h);

#endif /* LKL_NATIVE_IMAGE_LOCK_H */
