/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A raw image file (or host block device) served to the LKL kernel as a
 * struct lkl_disk.
 *
 * Requests run on a small pool of worker threads per disk, so submit()
 * never waits for I/O; a small read or write that the host's page cache
 * serves without waiting (RWF_NOWAIT) is done at once by try_now(), on
 * the kernel's CPU, with no hand-off.  A disk opened read-only never modifies its file:
 * writes the kernel still issues (for example ext4 replaying its journal
 * on a read-only mount) go to an in-memory copy-on-write overlay of 4 KiB
 * blocks that is discarded on close.
 *
 * file_disk_fill() sets lkl_disk.read_only to the mode the disk was opened
 * in.  With read_only set the kernel sees a read-only device, and ext4
 * then refuses to replay a journal.  To let the kernel write into the
 * overlay instead, clear .read_only after file_disk_fill(); the file is
 * still never written.
 */
#ifndef LKL_NATIVE_FILE_DISK_H
#define LKL_NATIVE_FILE_DISK_H

#include <lkl/host_ops.h>

struct file_disk;

/* How file_disk_open() opens its file. */
#define FILE_DISK_READ_ONLY	0x1	/* never write the file */
#define FILE_DISK_WAIT_LOCK	0x2	/* wait for another opener to close */

/*
 * Open @path (a regular file or a block device) as a disk, locked against
 * other openers (image_lock.h) until file_disk_close(): shared when
 * FILE_DISK_READ_ONLY, else exclusive.  Returns 0 and sets *@out, or a
 * negative errno: as from open(2) or fstat(2), -EISDIR for a directory,
 * -EINVAL for other kinds of file, -EBUSY when another opener's lock
 * conflicts (unless FILE_DISK_WAIT_LOCK), -EINTR when a signal ended that
 * wait, -ENOMEM, or a thread creation error.  The capacity is the size
 * rounded down to 512 bytes.
 */
int file_disk_open(const char *path, unsigned int flags,
		   struct file_disk **out);

/* Describe @d for lkl_disk_add(); @d must stay open while it is used. */
void file_disk_fill(struct file_disk *d, struct lkl_disk *out);

/*
 * Wait for every submitted request to complete, stop the workers, drop
 * the overlay and close the file.  Nothing may be submitted during or
 * after the call.
 */
void file_disk_close(struct file_disk *d);

#endif /* LKL_NATIVE_FILE_DISK_H */
