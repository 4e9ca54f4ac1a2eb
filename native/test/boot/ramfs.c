// SPDX-License-Identifier: GPL-2.0
/*
 * boot_test: the kernel's own calls (uname, open flags) and its
 * in-memory root, before any disk.
 */
#include "harness.h"

void test_uname(void)
{
	struct lkl_new_utsname u;
	long r;

	memset(&u, 0, sizeof(u));
	r = CHECK(lkl_sys1(LKL___NR_uname, &u));
	if (r >= 0 && strncmp(u.release, "6.12", 4))
		fail("release is \"%s\"", u.release);
	if (r >= 0 && strcmp(u.sysname, "Linux"))
		fail("sysname is \"%s\"", u.sysname);
	report("uname: %s %s", u.sysname, u.release);
}

/*
 * Host O_* flags, through lkl_host_open_flags(), must mean to the kernel
 * what they mean to the host: on arm64 four of them have other numbers.
 */
static void test_open_flags(void)
{
	static const struct {
		int host;
		int lkl;
	} pairs[] = {
		{ O_RDONLY, LKL_O_RDONLY },
		{ O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_APPEND,
		  LKL_O_WRONLY | LKL_O_CREAT | LKL_O_EXCL | LKL_O_TRUNC |
		  LKL_O_APPEND },
		{ O_RDWR | O_SYNC, LKL_O_RDWR | LKL_O_SYNC },
		{ O_RDWR | O_DSYNC, LKL_O_RDWR | LKL_O_DSYNC },
		{ O_RDWR | O_TMPFILE, LKL_O_RDWR | LKL_O_TMPFILE },
		{ O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		  LKL_O_RDONLY | LKL_O_DIRECTORY | LKL_O_NOFOLLOW |
		  LKL_O_CLOEXEC },
		{ O_RDONLY | O_DIRECT | O_NOATIME | O_NONBLOCK | O_NOCTTY,
		  LKL_O_RDONLY | LKL_O_DIRECT | LKL_O_NOATIME |
		  LKL_O_NONBLOCK | LKL_O_NOCTTY },
		{ O_PATH | O_NOFOLLOW, LKL_O_PATH | LKL_O_NOFOLLOW },
	};
	size_t i;
	long fd;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		int got = lkl_host_open_flags(pairs[i].host);

		if (got != pairs[i].lkl)
			fail("host flags %#o: %#o, expected %#o", pairs[i].host,
			     got, pairs[i].lkl);
	}

	CHECK(k_symlinkat("c", LKL_AT_FDCWD, "/ramtest/link"));
	fd = CHECK(k_open("/ramtest/sub", lkl_host_open_flags(O_RDONLY |
			  O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), 0));
	if (fd >= 0)
		CHECK(k_close(fd));
	EXPECT_ERR(k_open("/ramtest/c", lkl_host_open_flags(O_RDONLY |
			  O_DIRECTORY), 0), LKL_ENOTDIR);
	EXPECT_ERR(k_open("/ramtest/link", lkl_host_open_flags(O_RDONLY |
			  O_NOFOLLOW), 0), LKL_ELOOP);
	fd = CHECK(k_open("/ramtest/link", lkl_host_open_flags(O_RDONLY), 0));
	if (fd >= 0)
		CHECK(k_close(fd));
	CHECK(k_unlink("/ramtest/link"));
	report("ramfs: host O_* flags mean the same to the kernel");
}

void test_ramfs(void)
{
	unsigned char data[10000], back[10000];
	struct lkl_statx stx, stx2;
	struct lkl_statfs sfs;
	struct dlist l;
	char p[64];
	long fd, r;
	int i;

	CHECK(lkl_sys2(LKL___NR_statfs, "/", &sfs));
	if ((unsigned long)sfs.f_type != LKL_RAMFS_MAGIC)
		fail("/: f_type %#lx, expected ramfs", (unsigned long)sfs.f_type);
	CHECK(k_mkdir("/ramtest", 0755));
	EXPECT_ERR(k_mkdir("/ramtest", 0755), LKL_EEXIST);
	if (CHECK(k_path_statx("/ramtest", 0, &stx)) >= 0 &&
	    (stx.stx_mode != (S_IFDIR | 0755) || stx.stx_nlink != 2))
		fail("/ramtest: mode %#o nlink %u", stx.stx_mode,
		     stx.stx_nlink);
	CHECK(k_mkdir("/ramtest/sub", 0700));
	report("ramfs: mkdir");

	fill_pattern(data, sizeof(data), 1);
	fd = CHECK(k_open("/ramtest/a", LKL_O_CREAT | LKL_O_EXCL | LKL_O_RDWR,
			  0640));
	if (fd >= 0) {
		r = CHECK(k_write_all(fd, data, sizeof(data)));
		CHECK(k_lseek(fd, 0, LKL_SEEK_SET));
		r = CHECK(k_read_all(fd, back, sizeof(back)));
		if (r >= 0 && (r != sizeof(back) || memcmp(data, back, r)))
			fail("read back %ld bytes, different", r);
		CHECK(k_close(fd));
		EXPECT_ERR(k_close(fd), LKL_EBADF);
	}
	fd = CHECK(k_open("/ramtest/a", LKL_O_RDONLY, 0));
	if (fd >= 0) {
		memset(back, 0, sizeof(back));
		r = CHECK(k_read_all(fd, back, sizeof(back)));
		if (r >= 0 && (r != sizeof(back) || memcmp(data, back, r)))
			fail("read after reopen: %ld bytes, different", r);
		r = CHECK(k_read_all(fd, back, 1));
		if (r != 0)
			fail("read at end of file: %ld, expected 0", r);
		EXPECT_ERR(k_write(fd, data, 1), LKL_EBADF);
		CHECK(k_close(fd));
	}
	report("ramfs: openat, write, read, close");

	if (CHECK(k_path_statx("/ramtest/a", LKL_AT_SYMLINK_NOFOLLOW,
			       &stx)) >= 0) {
		if (stx.stx_mode != (S_IFREG | 0640))
			fail("mode %#o, expected %#o", stx.stx_mode,
			     S_IFREG | 0640);
		if (stx.stx_size != sizeof(data))
			fail("size %llu", (unsigned long long)stx.stx_size);
		if (stx.stx_nlink != 1 || stx.stx_uid || stx.stx_gid)
			fail("nlink %u uid %u gid %u", stx.stx_nlink,
			     stx.stx_uid, stx.stx_gid);
		if (!(stx.stx_mask & LKL_STATX_INO) || !stx.stx_ino)
			fail("no inode number: mask %#x", stx.stx_mask);
		if (stx.stx_mtime.tv_sec < 1600000000)
			fail("mtime %lld: the clock is not the host's",
			     (long long)stx.stx_mtime.tv_sec);
	}
	EXPECT_ERR(k_path_statx("/ramtest/none", 0, &stx), LKL_ENOENT);
	report("ramfs: statx");

	if (k_put_file("/ramtest/b", "bee\n", 4, 0644) &&
	    CHECK(k_path_statx("/ramtest/a", 0, &stx)) >= 0) {
		CHECK(k_rename("/ramtest/a", "/ramtest/c", 0));
		k_expect_missing("/ramtest/a");
		if (CHECK(k_path_statx("/ramtest/c", 0, &stx2)) >= 0 &&
		    stx2.stx_ino != stx.stx_ino)
			fail("renamed file has another inode");
		EXPECT_ERR(k_rename("/ramtest/c", "/ramtest/b",
				    LKL_RENAME_NOREPLACE), LKL_EEXIST);
		CHECK(k_rename("/ramtest/c", "/ramtest/b",
			       LKL_RENAME_EXCHANGE));
		k_expect_text("/ramtest/c", "bee\n");
		CHECK(k_rename("/ramtest/b", "/ramtest/sub/moved", 0));
		if (CHECK(k_path_statx("/ramtest/sub/moved", 0, &stx2)) >= 0 &&
		    (stx2.stx_ino != stx.stx_ino ||
		     stx2.stx_size != sizeof(data)))
			fail("moved file: inode %llu size %llu",
			     (unsigned long long)stx2.stx_ino,
			     (unsigned long long)stx2.stx_size);
	}
	report("ramfs: renameat2 (plain, NOREPLACE, EXCHANGE, across directories)");

	for (i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "/ramtest/file-%02d", i);
		k_put_file(p, p, strlen(p), 0600);
	}
	/* 200 bytes a call: many calls, each returning a few entries. */
	r = k_list("/ramtest", &l, 200, true);
	if (r < 0) {
		fail("getdents64: %s", err_name(r));
	} else {
		/* Sorted: ".", "..", c, file-00 .. file-49, sub */
		if (l.n != 54)
			fail("%zu entries, expected 54", l.n);
		for (i = 0; i < (int)l.n && l.n == 54; i++) {
			const char *want;
			char name[16];
			unsigned char type = K_DT_REG;

			if (i == 0) {
				want = ".";
				type = K_DT_DIR;
			} else if (i == 1) {
				want = "..";
				type = K_DT_DIR;
			} else if (i == 2) {
				want = "c";
			} else if (i == 53) {
				want = "sub";
				type = K_DT_DIR;
			} else {
				snprintf(name, sizeof(name), "file-%02d", i - 3);
				want = name;
			}
			if (strcmp(l.v[i].name, want) || l.v[i].type != type)
				fail("entry %d: \"%s\" type %u, expected \"%s\" type %u",
				     i, l.v[i].name, l.v[i].type, want, type);
		}
		dlist_free(&l);
	}
	EXPECT_ERR(k_getdents64(9999, p, sizeof(p)),
		   LKL_EBADF);
	report("ramfs: getdents64");

	test_open_flags();

	EXPECT_ERR(k_rmdir("/ramtest/sub"), LKL_ENOTEMPTY);
	EXPECT_ERR(k_unlink("/ramtest/sub"), LKL_EISDIR);
	CHECK(k_unlink("/ramtest/sub/moved"));
	CHECK(k_rmdir("/ramtest/sub"));
	CHECK(k_unlink("/ramtest/c"));
	for (i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "/ramtest/file-%02d", i);
		CHECK(k_unlink(p));
	}
	EXPECT_ERR(k_unlink("/ramtest/c"), LKL_ENOENT);
	r = k_list("/ramtest", &l, 4096, false);
	if (r < 0)
		fail("getdents64: %s", err_name(r));
	else if (l.n)
		fail("/ramtest: %zu entries left, first \"%s\"", l.n,
		     l.v[0].name);
	if (r >= 0)
		dlist_free(&l);
	CHECK(k_rmdir("/ramtest"));
	k_expect_missing("/ramtest");
	report("ramfs: unlinkat (files and directories)");
}
