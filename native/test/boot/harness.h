/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What boot_test's files share (harness.c): TAP output, where fail()
 * marks the test point in progress failed and report() closes it; checks
 * of kernel calls; helpers on the host and, by path, in the kernel; and
 * the subjects, one file each, that main.c runs in one boot.
 */
#ifndef LKL_BOOT_TEST_HARNESS_H
#define LKL_BOOT_TEST_HARNESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../kernel/kcall.h"

#define MIB			(1024 * 1024)
#define CHUNK			MIB	/* file contents compare this much at once */
#define KPATH_MAX		512
#define NSEC_PER_SEC		1000000000LL

#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* linux_dirent64, as getdents64 fills it. */
struct k_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

/* d_type values of the kernel ABI. */
#define K_DT_UNKNOWN	0
#define K_DT_FIFO	1
#define K_DT_DIR	4
#define K_DT_REG	8
#define K_DT_LNK	10

/* ------------------------------------------------------------------ TAP */

extern int tap_count;
extern int tap_failed;

/* A failure of the test point in progress; threads may report them too. */
void __printf(1, 2) fail(const char *fmt, ...);
bool failed_so_far(void);
/* Close the test point in progress: ok unless fail() was called since. */
bool __printf(1, 2) report(const char *fmt, ...);
void __printf(1, 2) note(const char *fmt, ...);
const char *err_name(long r);

/* A kernel call that must succeed: its result, after fail() if negative. */
#define CHECK(expr)	check_call((expr), #expr, __LINE__)
long check_call(long r, const char *what, int line);

/* A kernel call that must fail with -@err. */
#define EXPECT_ERR(expr, err)	expect_err((expr), (err), #expr, __LINE__)
bool expect_err(long r, long err, const char *what, int line);

double ms_since(const struct timespec *start);

/* ---------------------------------------------------------- host helpers */

int run_cmd(char *const argv[], char *out, size_t outlen);
void fail_tail(const char *what, const char *text, int lines);
bool sha256_file(const char *path, char hex[65]);
bool read_host_text(const char *path, char *buf, size_t len);
ssize_t host_read_all(int fd, void *buf, size_t len);

/* ------------------------------------- kernel helpers, by absolute path */

/* The *at() calls of kcall.h from LKL_AT_FDCWD; k_close() is kcall.h's. */
long k_open(const char *path, int flags, int mode);
long k_path_statx(const char *path, int flags, struct lkl_statx *stx);
long k_lstatx(const char *path, struct lkl_statx *stx);
long k_mkdir(const char *path, int mode);
long k_unlink(const char *path);
long k_rmdir(const char *path);
long k_rename(const char *from, const char *to, unsigned int flags);
long k_readlink(const char *path, char *buf, size_t len);
long k_write_all(long fd, const void *buf, size_t len);
long k_read_all(long fd, void *buf, size_t len);
long k_pread_all(long fd, void *buf, size_t len, long long off);
bool k_put_file(const char *path, const void *data, size_t len, int mode);
bool k_expect_text(const char *path, const char *want);
bool k_expect_missing(const char *path);
void fill_pattern(unsigned char *buf, size_t len, uint64_t seed);
size_t first_difference(const unsigned char *a, const unsigned char *b,
			size_t len);

/* ----------------------------------------------------------- directories */

struct dent {
	char *name;
	unsigned char type;
	uint64_t ino;
};

struct dlist {
	struct dent *v;
	size_t n;
	size_t cap;
};

void dlist_free(struct dlist *l);
bool dlist_add(struct dlist *l, const char *name, unsigned char type,
	       uint64_t ino);
int dent_cmp(const void *a, const void *b);
long k_list(const char *path, struct dlist *out, size_t buf_len, bool dots);
bool h_list(const char *path, struct dlist *out);

/* -------------------------------------------------------------- subjects */

/* The FIXTURES directory (test/fixtures/make-images.sh), from main(). */
extern const char *fixtures;

/* ramfs.c: the kernel's own calls and its in-memory root. */
void test_uname(void);
void test_ramfs(void);

/* fs.c: every filesystem's image, read-only then read-write. */
void test_filesystems(void);

/* What fs.c knows of each filesystem; threads.c uses ext4, the first. */
struct fs_case {
	const char *name;		/* the kernel's name for it */
	const char *tree;		/* source tree in FIXTURES */
	unsigned long magic;		/* statfs f_type */
	bool posix;			/* modes, owners, links, xattrs */
	bool image_hardlinks;		/* the image keeps hard links */
	bool mtime;			/* the image keeps mtimes */
	bool dir_nlink_one;		/* directories report nlink 1 */
	bool lost_found;		/* root has lost+found of its own */
	long long time_gran;		/* timestamp granularity, ns */
	const char *fsck[4];		/* fsck command, image appended */
};

extern const struct fs_case fs_cases[];

/* FIXTURES/@fmt... into @buf; false if too long. */
bool __printf(3, 4) fixture_path(char *buf, size_t len, const char *fmt, ...);
/* Add @img as a disk and mount it (fstype probed); false after fail(). */
bool add_and_mount(const struct fs_case *fs, const char *img,
		   bool read_only, struct lkl_host_disk **disk, char *mnt,
		   size_t mnt_len);
bool umount_and_remove(const char *mnt, struct lkl_host_disk *disk);
/* The filesystem's own fsck of @img, read-only: fail() unless clean. */
void run_fsck(const struct fs_case *fs, const char *img);

/* threads.c: host threads calling in at once. */
void test_threads(void);
void test_short_lived_threads(void);

#endif /* LKL_BOOT_TEST_HARNESS_H */
