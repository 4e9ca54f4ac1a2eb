// SPDX-License-Identifier: GPL-2.0
/*
 * `mount -o remount,ro` of an lklfuse mount runs us (as its mount helper,
 * through mount.fuse3) with "remount" among the options: the mount is
 * there already, served by its server, and only its flags change, which
 * the host kernel does for FUSE (going read-only, it writes back first).
 * So no server: the host's own remount of the mount point, with the flags
 * it knows (mount -i: not through the helper again).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lklfuse.h"

/* The mount flags a remount may change: the host kernel's, not ours. */
static const char *const remount_flags[] = {
	"ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec",
	"sync", "async", "dirsync", "atime", "noatime", "diratime",
	"nodiratime", "relatime", "norelatime", "strictatime",
	"nostrictatime", "lazytime", "nolazytime", NULL,
};

static bool remount_flag(const char *s, size_t len)
{
	int i;

	for (i = 0; remount_flags[i]; i++) {
		if (strlen(remount_flags[i]) == len &&
		    !strncmp(s, remount_flags[i], len))
			return true;
	}
	return false;
}

/* "remount" and the remount flags among the -o options of @args. */
static int remount_options(const struct fuse_args *args, char *out,
			   size_t size)
{
	size_t used = strlen("remount");
	int i;

	if (size <= used)
		return -1;
	strcpy(out, "remount");
	for (i = 1; i < args->argc; i++) {
		const char *s = args->argv[i];

		if (strncmp(s, "-o", 2))
			continue;
		s = s[2] ? s + 2 : i + 1 < args->argc ? args->argv[++i] : "";
		while (*s) {
			/* A flag has no escaped comma (\,), so no backslash. */
			size_t len = strcspn(s, ",");

			if (remount_flag(s, len)) {
				if (used + 1 + len + 1 > size)
					return -1;
				out[used++] = ',';
				memcpy(out + used, s, len);
				used += len;
				out[used] = '\0';
			}
			s += len;
			if (*s)
				s++;
		}
	}
	return 0;
}

bool lklfuse_remounting(const struct fuse_args *args)
{
	return lklfuse_has_fuse_opt(args, "remount");
}

/* mount's first line without "mount: " and the path it names first. */
static const char *mount_said(char *text)
{
	char *line = text, *end, *colon;

	while (*line == '\n' || *line == ' ')
		line++;
	if (!*line)
		return NULL;
	end = strchrnul(line, '\n');
	*end = '\0';
	while (end > line && end[-1] == ' ')
		*--end = '\0';
	if (!strncmp(line, "mount: ", 7))
		line += 7;
	colon = strchr(line, ':');
	if (line[0] == '/' && colon && colon[1] == ' ')
		line = colon + 2;
	return line;
}

int lklfuse_remount(struct lklfuse *lf, const struct fuse_args *args)
{
	const char *mnt = lf->opts.mountpoint, *why;
	char opts[512], text[4096], rest[4096], exited[48];
	char *argv[] = { "mount", "-i", "-o", opts, (char *)mnt, NULL };
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	int p[2], r, st;
	ssize_t n;
	pid_t pid;

	if (remount_options(args, opts, sizeof(opts))) {
		lklfuse_setup_error(lf, "cannot remount %s: too many options", mnt);
		return 1;
	}
	if (pipe2(p, O_CLOEXEC)) {
		lklfuse_setup_error(lf, "cannot remount %s: %s", mnt, strerror(errno));
		return 1;
	}
	r = posix_spawn_file_actions_init(&fa);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	if (!r)
		r = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (!r)
		r = posix_spawnp(&pid, "mount", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r) {
		close(p[0]);
		lklfuse_setup_error(lf, "cannot remount %s: cannot run mount: %s",
				    mnt, strerror(r));
		return 1;
	}
	/* All of it, or mount could wait to write the rest. */
	for (;;) {
		bool room = len < sizeof(text) - 1;

		n = room ? read(p[0], text + len, sizeof(text) - 1 - len) :
			   read(p[0], rest, sizeof(rest));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (room)
			len += n;
	}
	text[len] = '\0';
	close(p[0]);
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		lklfuse_setup_error(lf, "cannot remount %s: %s", mnt, strerror(errno));
		return 1;
	}
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		return 0;
	why = mount_said(text);
	if (!why) {
		if (WIFEXITED(st))
			snprintf(exited, sizeof(exited), "mount exited with status %d",
				 WEXITSTATUS(st));
		else
			snprintf(exited, sizeof(exited), "mount was killed by signal %d",
				 WTERMSIG(st));
		why = exited;
	}
	lklfuse_setup_error(lf, "cannot remount %s: %s", mnt, why);
	return 1;
}
