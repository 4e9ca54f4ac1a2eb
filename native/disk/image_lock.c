// SPDX-License-Identifier: GPL-2.0
/*
 * Image locks and their holders, see image_lock.h.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image_lock.h"

int image_lock(int fd, bool exclusive, bool wait)
{
	struct flock fl = {
		.l_type = exclusive ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		/* .l_start = 0, .l_len = 0: the whole file, as it grows too */
	};

	if (!fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl))
		return 0;
	switch (errno) {
	case EAGAIN:
	case EACCES:
		return -EBUSY;
	case ENOLCK:
	case EINVAL:
	case EOPNOTSUPP:
		return 0;
	default:
		return -errno;
	}
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
	}
	return true;
}

/*
 * Whether the lock line @line of a /proc/PID/fdinfo file holds a lock on
 * the file @dev, @ino, and then whether it is exclusive.  A lock line:
 * "lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:2146498 0 EOF" (the device
 * in hex, as in /proc/locks); a waiter's has "->" before its class.
 */
static bool line_locks(const char *line, dev_t dev, ino_t ino, bool *writing)
{
	char class[16], kind[16], type[16];
	unsigned int maj, min;
	unsigned long long i;
	int pid;

	if (sscanf(line, "lock: %*d: %15s %15s %15s %d %x:%x:%llu", class,
		   kind, type, &pid, &maj, &min, &i) != 7 ||
	    !strcmp(class, "->"))
		return false;
	if (maj != major(dev) || min != minor(dev) || i != (unsigned long long)ino)
		return false;
	*writing = !strcmp(type, "WRITE");
	return true;
}

/* Whether the descriptor @fd of a process (its fdinfo directory) locks the file. */
static bool fd_locks(int fdinfo_dir, const char *fd, dev_t dev, ino_t ino,
		     bool *writing)
{
	char line[256];
	bool found = false;
	FILE *f;
	int i;

	i = openat(fdinfo_dir, fd, O_RDONLY | O_CLOEXEC);
	if (i < 0)
		return false;
	f = fdopen(i, "r");
	if (!f) {
		close(i);
		return false;
	}
	while (!found && fgets(line, sizeof(line), f))
		found = line_locks(line, dev, ino, writing);
	fclose(f);
	return found;
}

/* Whether process @pid (a name in /proc, open as @proc) holds a lock on the file. */
static bool pid_locks(int proc, const char *pid, dev_t dev, ino_t ino,
		      bool *writing)
{
	struct dirent *e;
	bool found = false;
	DIR *dir;
	int fd, i;

	fd = openat(proc, pid, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	i = openat(fd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	if (i < 0)
		return false;
	dir = fdopendir(i);
	if (!dir) {
		close(i);
		return false;
	}
	while (!found && (e = readdir(dir))) {
		if (all_digits(e->d_name))
			found = fd_locks(dirfd(dir), e->d_name, dev, ino,
					 writing);
	}
	closedir(dir);
	return found;
}

static void read_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, len - 1);
	close(fd);
	if (n <= 0)
		n = 0;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/*
 * The device /proc/locks names the file open as @fd by: its filesystem's,
 * from the mount's line in /proc/self/mountinfo (on btrfs, st_dev is the
 * subvolume's, which /proc/locks does not show); st_dev if that fails.
 */
static dev_t lock_dev(int fd, dev_t st_dev)
{
	char path[64], line[4096];
	unsigned int maj, min;
	int mnt = -1, id;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return st_dev;
	while (mnt < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "mnt_id: %d", &id) == 1)
			mnt = id;
	}
	fclose(f);
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return st_dev;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d %*d %u:%u", &id, &maj, &min) == 3 &&
		    id == mnt) {
			fclose(f);
			return makedev(maj, min);
		}
	}
	fclose(f);
	return st_dev;
}

int image_lock_holder(const char *path, struct image_lock_holder *h)
{
	struct dirent *e;
	struct stat st;
	DIR *proc;
	int fd;

	memset(h, 0, sizeof(*h));
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	st.st_dev = lock_dev(fd, st.st_dev);
	close(fd);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while (!h->pid && (e = readdir(proc))) {
		if (all_digits(e->d_name) &&
		    pid_locks(dirfd(proc), e->d_name, st.st_dev, st.st_ino,
			      &h->writing))
			h->pid = atoi(e->d_name);
	}
	closedir(proc);
	if (!h->pid)
		return -ENOENT;
	read_comm(h->pid, h->comm, sizeof(h->comm));
	return 0;
}
