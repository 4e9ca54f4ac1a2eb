// SPDX-License-Identifier: GPL-2.0
/*
 * lklfuse-server: mount a disk image's filesystem through the kernel
 * library, served to the host over FUSE.  The command line is options.c's,
 * the kernel's boot, mount and halt lifecycle.c's; here the FUSE session
 * is made, mounted, served and taken down.
 *
 * If LKLFUSE_READY_FD=N is in the environment, the server writes to
 * descriptor N either "ready\n" once the mount serves requests, or
 * "error: MESSAGE\n" before it exits with status 1, and closes it.
 * Errors before the mount is ready also go to stderr, one line each.
 *
 * Without it, this is the lklfuse command (bin/lklfuse and lkl lklfuse
 * run it): it checks the command line and then, unless -f or -d keep it
 * in the foreground, starts itself again with LKLFUSE_READY_FD in the
 * background and waits for the mount (launch.c).  In the foreground it
 * serves itself, and adds to a failure what to do about it, if known.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lklfuse.h"
#include "console.h"

#define ENTRY_TIMEOUT		1.0
/*
 * Threads serving requests (without -s): one reads and serves while the
 * others wait, and each request that runs long lets one more read (loop.c);
 * this many slow requests at once make the rest wait.
 */
#define LKLFUSE_THREADS		8

/*
 * libfuse's last message line, kept to explain a failure to the launcher.
 * libfuse's log hook is process-wide, so is this.  A line may come in
 * pieces: they gather in fuse_line until its new line.
 */
static char fuse_last_msg[256];
static char fuse_line[256];
/* Kept, not printed: the launcher says it in its own words. */
static bool fuse_log_quiet;

static void fuse_log_to_stderr(enum fuse_log_level level, const char *fmt,
			       va_list ap)
{
	size_t used = strlen(fuse_line), len;
	char msg[256];

	(void)level;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	if (!fuse_log_quiet)
		fputs(msg, stderr);
	snprintf(fuse_line + used, sizeof(fuse_line) - used, "%s", msg);
	len = strlen(fuse_line);
	if (!len || fuse_line[len - 1] != '\n')
		return;
	while (len && (fuse_line[len - 1] == '\n' || fuse_line[len - 1] == ' '))
		fuse_line[--len] = '\0';
	/* "fuse: " says nothing a reader of our messages needs. */
	if (!strncmp(fuse_line, "fuse: ", 6))
		snprintf(fuse_last_msg, sizeof(fuse_last_msg), "%s",
			 fuse_line + 6);
	else if (len)
		memcpy(fuse_last_msg, fuse_line, len + 1);
	fuse_line[0] = '\0';
}

/* Report a failure before the mount serves: stderr and the launcher. */
void lklfuse_setup_error(struct lklfuse *lf, const char *fmt, ...)
{
	char *msg = lf->failure;
	size_t size = sizeof(lf->failure);
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, size, fmt, ap) < 0)
		snprintf(msg, size, "failed");
	va_end(ap);
	if (lf->launching)
		lklfuse_say("%s", msg);
	else
		fprintf(stderr, LKLFUSE_PROG ": %s\n", msg);
	lklfuse_tell_ready(lf, msg);
}

/*
 * A server in the foreground, started by no launcher, has said why it
 * could not mount: what to do about it, when that is known.
 */
static void advise(const struct lklfuse *lf)
{
	const struct lklfuse_failure *known;

	if (!lf->advise || !lf->failure[0])
		return;
	known = lklfuse_known_failure(lf->failure, NULL);
	if (known)
		lklfuse_say("%s", known->advice);
}

static void drain(void *arg)
{
	lklfuse_forget_stop(arg);
}

/*
 * Serve until unmounted or signalled.  Single-threaded, nothing serves
 * the host while the forget thread would wait for it: no forgetting.
 */
static int serve(struct lklfuse *lf)
{
	int r;

	if (lf->opts.single)
		return fuse_session_loop(lf->se);
	r = lklfuse_forget_start(lf);
	if (r)
		return r;
	r = lklfuse_loop(lf->se, LKLFUSE_THREADS, drain, lf);
	lklfuse_forget_stop(lf);
	return r;
}

/*
 * fuse_session_mount(), keeping what it prints on stderr.  For a user who
 * may not mount, libfuse runs fusermount3, whose reason to refuse (such as
 * allow_other without user_allow_other in /etc/fuse.conf) goes straight
 * to stderr, where the launcher does not look: @why gets its last line,
 * for the one line that explains the failure; any other output is passed
 * on.  The pipe is non-blocking, so a long message cannot hang us.
 */
static int mount_fuse(struct lklfuse *lf, const char *mountpoint, char *why,
		      size_t size)
{
	char buf[1024], *line;
	int p[2], saved = -1, r;
	ssize_t n, len = 0;

	why[0] = '\0';
	if (!pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		fflush(stderr);
		saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
		if (saved < 0 || dup2(p[1], 2) < 0) {
			if (saved >= 0)
				close(saved);
			saved = -1;
			close(p[0]);
		}
		close(p[1]);
	}
	r = fuse_session_mount(lf->se, mountpoint);
	if (saved < 0)
		return r;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	while (len < (ssize_t)sizeof(buf) - 1) {
		n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(p[0]);
	buf[len] = '\0';
	if (!r) {
		n = len ? write(2, buf, len) : 0;
		(void)n;	/* if it fails, there is nowhere to say so */
		return 0;
	}
	/* The last non-empty line, without its program's name. */
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (!strncmp(line, "fuse: ", 6))
		line += 6;
	else if (!strncmp(line, "fusermount3: ", 13))
		line += 13;
	n = strlen(line);
	if ((size_t)n >= size)
		n = size - 1;
	memcpy(why, line, n);
	why[n] = '\0';
	return r;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct lklfuse lf_storage, *lf = &lf_storage;
	struct lklfuse_cmdline cl;
	char *image_abs = NULL, *mnt_abs = NULL, why[256] = "";
	bool fuse_mounted = false, signals = false, managed;
	int status = 1, r;

	memset(lf, 0, sizeof(*lf));
	lf->ready_fd = lklfuse_ready_fd_from_env();
	/* Started by a program that reads our ready line, or by a user. */
	managed = lf->ready_fd >= 0;
	lf->launching = !managed;
	lf->timeout = ENTRY_TIMEOUT;
	lf->files.next = lf->files.prev = &lf->files;
	if (pthread_mutex_init(&lf->files_lock, NULL)) {
		lklfuse_setup_error(lf, "pthread_mutex_init failed");
		return 1;
	}
	fuse_set_log_func(fuse_log_to_stderr);

	fuse_log_quiet = lf->launching;
	r = lklfuse_parse_args(&args, &cl);
	fuse_log_quiet = false;
	lf->opts = cl.opts;
	if (r) {
		lklfuse_setup_error(lf, "bad options: %s (see --help)",
				    fuse_last_msg[0] ? fuse_last_msg : "not accepted");
		goto out;
	}
	if (lf->opts.help) {
		lklfuse_usage(stdout);
		status = 0;
		goto out;
	}
	if (lf->opts.version) {
		printf(LKLFUSE_PROG " (libfuse %s)\n", fuse_pkgversion());
		status = 0;
		goto out;
	}
	r = lklfuse_check_opts(lf, &cl);
	if (r) {
		status = r;
		goto out;
	}
	if (lklfuse_remounting(&args)) {
		status = lklfuse_remount(lf, &args);
		goto out;
	}
	if (!managed) {
		if (lklfuse_check_target(lf))
			goto out;
		if (!lf->opts.foreground && !lf->opts.debug) {
			status = lklfuse_launch(lf, argc, argv);
			goto out;
		}
		/* The server from here on, in the foreground. */
		lf->launching = false;
		lf->advise = true;
	}
	lf->host_permissions = cl.default_permissions || cl.allow_other;
	/*
	 * The host's noatime leaves atime to the server, which updates it
	 * on every read as its own mount says: the file opens must not.
	 */
	lf->noatime = lklfuse_has_fuse_opt(&args, "noatime");
	if (lklfuse_check_paths(lf) || lklfuse_kernel_start(lf))
		goto out;

	image_abs = realpath(lf->opts.image, NULL);
	if (lklfuse_add_fuse_opts(&args, &cl,
				  image_abs ? image_abs : lf->opts.image,
				  lf->fstype)) {
		lklfuse_setup_error(lf, "out of memory");
		goto out;
	}
	r = pthread_key_create(&lf->scratch_key, free);
	if (r) {
		lklfuse_setup_error(lf, "pthread_key_create: %s", strerror(r));
		goto out;
	}
	lf->scratch_key_made = true;

	fuse_last_msg[0] = '\0';
	lf->se = fuse_session_new(&args, &lklfuse_ops, sizeof(lklfuse_ops),
				  lf);
	if (!lf->se) {
		lklfuse_setup_error(lf, "FUSE options: %s",
			    fuse_last_msg[0] ? fuse_last_msg : "not accepted");
		goto out;
	}
	/*
	 * libfuse leaves alone a signal that is ignored, as a shell ignores
	 * SIGINT for a background command; SIGINT and SIGTERM must still
	 * end the server.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (fuse_set_signal_handlers(lf->se)) {
		lklfuse_setup_error(lf, "cannot set signal handlers");
		goto out;
	}
	signals = true;
	fuse_last_msg[0] = '\0';
	mnt_abs = realpath(lf->opts.mountpoint, NULL);
	if (mount_fuse(lf, mnt_abs ? mnt_abs : lf->opts.mountpoint, why,
		       sizeof(why))) {
		lklfuse_setup_error(lf, "%s: cannot mount: %s", lf->opts.mountpoint,
			    why[0] ? why : fuse_last_msg[0] ? fuse_last_msg :
			    "FUSE mount failed");
		goto out;
	}
	fuse_mounted = true;
	/*
	 * The directory we were started in may be in another mount (a
	 * shell's working directory in some other FUSE mount, say): a
	 * server that stays there keeps that mount busy, and its umount
	 * fails, for as long as we serve.  Nothing later needs it: the
	 * image is open, the mount point's path is absolute.
	 */
	if (mnt_abs && chdir("/"))
		fprintf(stderr, LKLFUSE_PROG ": chdir /: %s\n", strerror(errno));
	r = lklfuse_io_start(lf);
	if (r) {
		lklfuse_setup_error(lf, "%s: custom FUSE I/O: %s",
				    lf->opts.mountpoint, strerror(-r));
		goto out;
	}

	r = serve(lf);
	if (lf->ready_fd >= 0)
		lklfuse_setup_error(lf, "%s: the FUSE session ended before it started",
			    lf->opts.mountpoint);
	else if (r < 0)
		fprintf(stderr, LKLFUSE_PROG ": %s: serving FUSE: %s\n",
			lf->opts.mountpoint, strerror(-r));
	else
		status = 0;

out:
	if (fuse_mounted)
		fuse_session_unmount(lf->se);
	if (signals) {
		/*
		 * The kernel has yet to write back and unmount the image: a
		 * second SIGINT (a terminal's Ctrl-C reaches the launcher
		 * too, which passes it on; or an impatient user) must not
		 * kill us half-way, leaving the journal to replay and the
		 * last writes lost.  Nor may a closed stderr.  SIGKILL still
		 * works.  Ignored before libfuse's handlers go: removing
		 * them restores the default action, which for a SIGINT in
		 * between was death (seen: a 24 MiB file lost).  libfuse
		 * then leaves the ignored signals as they are, except
		 * SIGPIPE, which it ignored itself and so takes back; only
		 * this thread's own writes can raise it here (the others
		 * block every signal).
		 */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		fuse_remove_signal_handlers(lf->se);
		signal(SIGPIPE, SIG_IGN);
	}
	if (lf->se)
		fuse_session_destroy(lf->se);
	if (lklfuse_kernel_stop(lf))
		status = 1;
	lklfuse_console_close();
	if (lf->scratch_key_made) {
		free(pthread_getspecific(lf->scratch_key));
		pthread_key_delete(lf->scratch_key);
	}
	if (lf->ready_fd >= 0)
		lklfuse_tell_ready(lf, "exited before the mount was ready");
	if (status)
		advise(lf);
	pthread_mutex_destroy(&lf->files_lock);
	free(image_abs);
	free(mnt_abs);
	lklfuse_free_opts(&lf->opts);
	fuse_opt_free_args(&args);
	return status;
}
