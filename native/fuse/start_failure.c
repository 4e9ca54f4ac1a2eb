// SPDX-License-Identifier: GPL-2.0
/*
 * Why lklfuse-server could not mount, from what it said, and the one piece
 * of advice that helps: the fix differs between a host (install a package,
 * load a module) and a container (pass a device or a capability in), and
 * the copy commands need none of it.
 *
 * The texts matched are libfuse's and fusermount3's, which mount_fuse()
 * (lklfuse.c) keeps in the server's error line.  One failure is not here:
 * without libfuse3 the dynamic loader refuses to start the server at all,
 * so the programs that start it say that one (bin/lklfuse,
 * src/fuse/start-failure.ts).
 */
#define _GNU_SOURCE
#include <string.h>

#include "lklfuse.h"

#define NO_FUSE_NEEDED	"lkl fs2tar, cptofs and cpfromfs need none of this"
#define INSTALL_FUSE3	"install the fuse3 package (apt-get install fuse3, or dnf install fuse3)"

/* @first, and, if not NULL, @then after it on the same line. */
struct says {
	const char *first;
	const char *then;
};

struct known_failure {
	struct says says[5];		/* any of them; ends with first NULL */
	struct lklfuse_failure failure;
};

static const struct known_failure known[] = {
	{
		.says = {
			{ "device not found, try 'modprobe fuse' first" },
			{ "failed to open /dev/fuse: No such file or directory" },
		},
		.failure = {
			"/dev/fuse is missing",
			"in a container, pass the device in: --device /dev/fuse (podman run, docker run); "
			"on a host, load the module: modprobe fuse; " NO_FUSE_NEEDED,
		},
	},
	{
		/*
		 * EACCES: the node's mode.  A container's /dev/fuse (--device)
		 * has the host's mode, so passing it in again does not help.
		 */
		.says = { { "failed to open /dev/fuse: Permission denied" } },
		.failure = {
			"cannot open /dev/fuse: permission denied",
			"this user may not read and write /dev/fuse: on a host, make it 0666 (as udev does); "
			"in a container, /dev/fuse has the host's mode: run lklfuse as root there, "
			"or make the host's 0666; " NO_FUSE_NEEDED,
		},
	},
	{
		/*
		 * EPERM: the device cgroup refuses the node (a container's
		 * /dev/fuse bind-mounted in, not passed with --device).
		 */
		.says = { { "failed to open /dev/fuse: Operation not permitted" } },
		.failure = {
			"cannot open /dev/fuse: operation not permitted",
			"the device is not allowed here: in a container, pass it in with --device /dev/fuse "
			"(a bind mount of /dev/fuse is not enough); " NO_FUSE_NEEDED,
		},
	},
	{
		.says = {
			{ "failed to exec fusermount3" },
			{ "fusermount3: not found" },
			{ "fusermount3: command not found" },
		},
		.failure = {
			"fusermount3 is missing, which mounts FUSE filesystems for users other than root",
			INSTALL_FUSE3,
		},
	},
	{
		.says = {
			{ "mount failed: Operation not permitted" },
			{ "mount: permission denied" },
			{ "mount: Operation not permitted" },
			{ "fusermount3: ", "Operation not permitted" },
		},
		.failure = {
			"mounting is not permitted here",
			"a container needs --cap-add SYS_ADMIN besides --device /dev/fuse, and a host a setuid "
			"fusermount3 (from the fuse3 package); " NO_FUSE_NEEDED,
		},
	},
};

static bool text_says(const char *text, const struct says *s)
{
	const char *at = text, *end, *hit;

	if (!text)
		return false;
	while ((at = strstr(at, s->first))) {
		at += strlen(s->first);
		if (!s->then)
			return true;
		/* A hit beyond this line is another line's. */
		end = strchrnul(at, '\n');
		hit = strstr(at, s->then);
		if (hit && hit < end)
			return true;
		at = end;
	}
	return false;
}

const struct lklfuse_failure *lklfuse_known_failure(const char *said,
						    const char *printed)
{
	size_t i, j;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		for (j = 0; known[i].says[j].first; j++) {
			if (text_says(said, &known[i].says[j]) ||
			    text_says(printed, &known[i].says[j]))
				return &known[i].failure;
		}
	}
	return NULL;
}
