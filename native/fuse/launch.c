// SPDX-License-Identifier: GPL-2.0
/*
 * lklfuse-server as the lklfuse command: it checks the command line, then
 * starts itself again as the server, in a session of its own, and waits
 * until that says "ready" (exit 0, the mount serving) or why not (one line
 * with the cause, and what to do when that is known: exit 1).  Stopped by
 * SIGINT, SIGTERM or SIGHUP before then, it stops the server too, so that
 * no mount appears later, unasked (-o wait_lock waits for as long as the
 * image is busy).
 *
 * The server is this program run again, not a fork that goes on: its
 * command line is then the one lkl unmount and pgrep look for (the image,
 * the absolute mount point, under the name lklfuse-server), and nothing of
 * the caller's but the environment reaches it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lklfuse.h"

/* What of the server's stderr is kept to explain a failure. */
#define KEPT_OUTPUT		16384
/* How long a failed server may take to exit and close its stderr. */
#define EXIT_WAIT_MS		5000

/* @s with control and direction characters written out (see say()). */
static void put_printable(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p == '\n') {
			fputs("\\n", f);
		} else if (*p == '\r') {
			fputs("\\r", f);
		} else if (*p == '\t') {
			fputs("\\t", f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\x%02x", *p);
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* C1 controls, U+0080 to U+009F */
			fprintf(f, "\\u%04x", p[1]);
			p++;
		} else if (p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xa8 &&
					      p[2] <= 0xae) ||
					     (p[1] == 0x81 && p[2] >= 0xa6 &&
					      p[2] <= 0xa9))) {
			/* line and paragraph separators, bidi overrides */
			fprintf(f, "\\u%04x", 0x2000 | (p[1] & 0x3f) << 6 |
				(p[2] & 0x3f));
			p += 2;
		} else {
			fputc(*p, f);
		}
	}
}

/*
 * One line of lkl's on stderr.  The names in it come from the command
 * line and from the image (the kernel's messages): their control
 * characters cannot split the line or drive the terminal, as in lkl's
 * other commands (src/cli/printable.ts).
 */
void lklfuse_say(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		snprintf(msg, sizeof(msg), "failed");
	va_end(ap);
	fputs(LKLFUSE_LAUNCHER ": ", stderr);
	put_printable(stderr, msg);
	fputc('\n', stderr);
	fflush(stderr);
}

/* strerror(), as lkl words its causes: "no such file or directory". */
static const char *cause_of(int err, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(err));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] += 'a' - 'A';
	return buf;
}

int lklfuse_check_target(struct lklfuse *lf)
{
	const struct lklfuse_opts *o = &lf->opts;
	struct stat st;
	char why[128];

	if (stat(o->image, &st)) {
		lklfuse_setup_error(lf, "cannot open %s: %s", o->image,
				    cause_of(errno, why, sizeof(why)));
		return -1;
	}
	if (stat(o->mountpoint, &st)) {
		lklfuse_setup_error(lf, "cannot mount on %s: %s", o->mountpoint,
				    errno == ENOENT ? "no such directory" :
				    cause_of(errno, why, sizeof(why)));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		lklfuse_setup_error(lf, "cannot mount on %s: not a directory",
				    o->mountpoint);
		return -1;
	}
	return 0;
}

/*
 * The server's command line: the image, the absolute mount point, -f,
 * then the options given, in their order; NULL if out of memory.  The
 * options are all the arguments but the two that are neither an option
 * nor -o's value, as fuse_opt_parse() tells them apart.
 */
static char **server_argv(int argc, char *argv[], const char *image,
			  const char *mnt)
{
	char **out = calloc(argc + 4, sizeof(*out));
	int i, n = 0, positional = 0;
	bool options = true;

	if (!out)
		return NULL;
	out[n++] = argv[0];
	out[n++] = (char *)image;
	out[n++] = (char *)mnt;
	out[n++] = "-f";
	for (i = 1; i < argc; i++) {
		if (options && !strcmp(argv[i], "--")) {
			options = false;
			continue;
		}
		if (options && argv[i][0] == '-') {
			out[n++] = argv[i];
			if (!strcmp(argv[i], "-o") && i + 1 < argc)
				out[n++] = argv[++i];
			continue;
		}
		/* The image and the mount point: in their place already. */
		if (positional++ < 2)
			continue;
		out[n++] = argv[i];
	}
	out[n] = NULL;
	return out;
}

/* The image's name as the server's first argument: never an option. */
static char *image_arg(const char *image)
{
	char *s;

	if (image[0] != '-')
		return strdup(image);
	if (asprintf(&s, "./%s", image) < 0)
		return NULL;
	return s;
}

/*
 * Descriptors 0 to 3 made copies of @from's: by way of copies above them
 * all, so that none is overwritten before it has been copied (where the
 * caller had closed its stdin, say, a pipe got that number).  0 or -1.
 */
static int set_fds(const int from[4])
{
	int high[4], i;

	for (i = 0; i < 4; i++) {
		high[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 10);
		if (high[i] < 0)
			return -1;
	}
	for (i = 0; i < 4; i++) {
		if (dup2(high[i], i) < 0)
			return -1;
	}
	return 0;
}

/* Every descriptor from @from on closed: none of the caller's stay. */
static void close_from(int from)
{
	int fd;

	if (!close_range(from, ~0U, 0))
		return;
	/* Before Linux 5.9. */
	for (fd = from; fd < 65536; fd++)
		close(fd);
}

/* In the child: tell the launcher why there is no server, and end. */
static void __attribute__((noreturn, format(printf, 2, 3)))
child_failed(int ready, const char *fmt, ...)
{
	char line[PATH_MAX + 128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = snprintf(line, sizeof(line), "error: cannot start the server");
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* If the launcher cannot hear it, it hears the end of the pipe. */
	if (write(ready, line, n) < 0)
		_exit(127);
	_exit(127);
}

/*
 * In the child: the server, with stdin and stdout on /dev/null, stderr on
 * @err and "ready" on descriptor 3, in a session of its own, so that a
 * terminal's Ctrl-C and hangup reach only us.  Never returns.
 */
static void __attribute__((noreturn))
exec_server(char **args, int devnull, int err, int ready, const sigset_t *mask)
{
	const int fds[4] = { devnull, devnull, err, ready };
	char self[PATH_MAX];
	ssize_t n;

	if (setsid() < 0 || set_fds(fds))
		child_failed(ready, "error: cannot start the server: %s",
			     strerror(errno));
	close_from(4);
	if (setenv("LKLFUSE_READY_FD", "3", 1) ||
	    sigprocmask(SIG_SETMASK, mask, NULL))
		child_failed(3, "error: cannot start the server: %s",
			     strerror(errno));
	/* The name it runs under is the name ps and pgrep show. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		execv(self, args);
	}
	execvp(args[0], args);
	child_failed(3, "error: cannot run %s: %s", args[0], strerror(errno));
}

/* What the launcher hears from its server. */
struct hearing {
	char line[512];		/* the first line of descriptor 3 */
	size_t line_len;
	bool line_done;		/* a whole line, or its end */
	char output[KEPT_OUTPUT];	/* the first of its stderr */
	size_t output_len;
	bool output_done;
	int stopped_by;		/* the first stop signal, or 0 */
};

static int ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* One read from @fd into @buf: false at its end (or an error). */
static bool hear(int fd, char *buf, size_t *len, size_t size)
{
	char discard[4096];
	ssize_t n;

	if (*len + 1 < size)
		n = read(fd, buf + *len, size - 1 - *len);
	else
		n = read(fd, discard, sizeof(discard));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (*len + 1 < size) {
		*len += n;
		buf[*len] = '\0';
	}
	return true;
}

/*
 * Listen to the server @pid until its first line on @ready is whole, or
 * (@until_exit) until its stderr @err ends too, for at most @max_ms then;
 * a stop signal on @sigfd is passed on to it as SIGTERM.  0, or -errno
 * if we can listen no more.
 */
static int listen_to(struct hearing *h, pid_t pid, int ready, int err,
		     int sigfd, bool until_exit, int max_ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = h->line_done ? -1 : ready, .events = POLLIN },
			{ .fd = h->output_done ? -1 : err, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};
		int timeout = -1, r;

		if (h->line_done) {
			if (!until_exit || h->output_done)
				return 0;
			timeout = max_ms - ms_since(&t0);
			if (timeout <= 0)
				return 0;
		}
		r = poll(p, 3, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (!h->stopped_by)
					h->stopped_by = si.ssi_signo;
				/* ESRCH: it has ended already. */
				if (kill(pid, SIGTERM) && errno != ESRCH)
					return -errno;
			}
		}
		if (p[1].revents)
			h->output_done = !hear(err, h->output, &h->output_len,
					       sizeof(h->output));
		if (p[0].revents) {
			h->line_done = !hear(ready, h->line, &h->line_len,
					     sizeof(h->line));
			if (strchr(h->line, '\n')) {
				*strchr(h->line, '\n') = '\0';
				h->line_done = true;
			}
		}
	}
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "a signal";
	}
}

/* The server's last line on stderr, without its name; NULL if none. */
static const char *last_line(char *output)
{
	char *end = output + strlen(output), *line;

	while (end > output && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	if (end == output)
		return NULL;
	line = strrchr(output, '\n');
	line = line ? line + 1 : output;
	if (!strncmp(line, LKLFUSE_PROG ": ", strlen(LKLFUSE_PROG ": ")))
		line += strlen(LKLFUSE_PROG ": ");
	return line;
}

/* Say why the server did not get the mount ready: the status to exit with. */
static int not_ready(const struct lklfuse *lf, struct hearing *h)
{
	const struct lklfuse_failure *known;
	const char *said = NULL, *cause;

	if (h->stopped_by) {
		lklfuse_say("stopped by %s before %s was mounted",
			    signal_name(h->stopped_by), lf->opts.mountpoint);
		return 128 + h->stopped_by;
	}
	if (!strncmp(h->line, "error: ", 7))
		said = h->line + 7;
	else if (h->line[0])
		said = h->line;
	known = lklfuse_known_failure(said, h->output);
	if (known) {
		lklfuse_say("cannot mount %s on %s: %s", lf->opts.image,
			    lf->opts.mountpoint, known->cause);
		lklfuse_say("%s", known->advice);
		return 1;
	}
	cause = said ? said : last_line(h->output);
	lklfuse_say("%s", cause ? cause :
		    "the FUSE server exited before the mount was ready");
	return 1;
}

int lklfuse_launch(struct lklfuse *lf, int argc, char *argv[])
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
	int ready[2] = { -1, -1 }, err[2] = { -1, -1 };
	int devnull = -1, sigfd = -1, status = 1;
	char *mnt = NULL, *image = NULL, **args = NULL;
	struct hearing *h = NULL;
	sigset_t stop, old;
	size_t i;
	pid_t pid;
	int r;

	sigemptyset(&stop);
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaddset(&stop, stops[i]);
	mnt = realpath(lf->opts.mountpoint, NULL);
	if (!mnt) {
		lklfuse_setup_error(lf, "cannot mount on %s: %s",
				    lf->opts.mountpoint, strerror(errno));
		goto out;
	}
	image = image_arg(lf->opts.image);
	h = calloc(1, sizeof(*h));
	if (!image || !h || !(args = server_argv(argc, argv, image, mnt))) {
		lklfuse_setup_error(lf, "cannot start the server: %s",
				    strerror(ENOMEM));
		goto out;
	}
	/*
	 * The stop signals are read from a signalfd, blocked from now on (a
	 * pending one ends nothing when we return): heard even where the
	 * shell that started us ignores SIGINT (a background job), as the
	 * server hears its own.  The server gets the mask we were given.
	 */
	if (sigprocmask(SIG_BLOCK, &stop, &old)) {
		lklfuse_setup_error(lf, "sigprocmask: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		signal(stops[i], SIG_DFL);
	sigfd = signalfd(-1, &stop, SFD_CLOEXEC);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (sigfd < 0 || devnull < 0 || pipe2(ready, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC)) {
		lklfuse_setup_error(lf, "cannot start the server: %s",
				    strerror(errno));
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		lklfuse_setup_error(lf, "cannot start the server: %s",
				    strerror(errno));
		goto out;
	}
	if (!pid)
		exec_server(args, devnull, err[1], ready[1], &old);
	close(ready[1]);
	close(err[1]);
	ready[1] = err[1] = -1;

	r = listen_to(h, pid, ready[0], err[0], sigfd, false, 0);
	if (r) {
		/* Better no mount than one nobody knows of. */
		if (kill(pid, SIGTERM) && errno != ESRCH)
			lklfuse_say("cannot stop the server (process %d): %s",
				    (int)pid, strerror(errno));
		lklfuse_setup_error(lf, "lost contact with the server: %s",
				    strerror(-r));
		goto out;
	}
	if (!h->stopped_by && !strcmp(h->line, "ready")) {
		/* It serves: its stderr goes nowhere from now on. */
		status = 0;
		goto out;
	}
	/*
	 * It ends: wait for its stderr's end (its exit, unless a program it
	 * started holds that), so that the image is free when we return.
	 * What it printed meanwhile is the more to explain its failure by.
	 */
	if (!listen_to(h, pid, ready[0], err[0], sigfd, true, EXIT_WAIT_MS) &&
	    h->output_done) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	status = not_ready(lf, h);

out:
	for (i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (devnull >= 0)
		close(devnull);
	if (sigfd >= 0)
		close(sigfd);
	free(args);
	free(image);
	free(mnt);
	free(h);
	return status;
}
