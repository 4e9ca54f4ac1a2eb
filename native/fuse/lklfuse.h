/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lklfuse-server: one disk image served over FUSE by the kernel library.
 *
 * Everything one mount needs lives in struct lklfuse; nothing is global
 * but the kernel itself (one per process) and its console (console.h).
 */
#ifndef LKLFUSE_LKLFUSE_H
#define LKLFUSE_LKLFUSE_H

#define FUSE_USE_VERSION 314

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <fuse_lowlevel.h>

#include "../kernel/kernel.h"

#define LKLFUSE_PROG		"lklfuse-server"
/*
 * The name the launcher's messages go under (launch.c): lkl's, whether
 * `lklfuse` or `lkl lklfuse` started it.
 */
#define LKLFUSE_LAUNCHER	"lkl"
/* The kernel's memory without -o mb=. */
#define LKLFUSE_DEFAULT_MB	128

/* FUSE reads and writes of up to this much at once. */
#define LKLFUSE_MAX_IO		(1024 * 1024)

/*
 * At most this many O_PATH descriptors of nodes stay open (see inodes.c):
 * the kernel's descriptor table then stays within 8,192 slots, one
 * 64 KiB allocation.
 */
#define LKLFUSE_NODE_FDS	4096

struct k_file_handle;

/*
 * A kernel inode FUSE knows about, and how many lookups FUSE has not
 * forgotten yet.  Its FUSE node ID is its address (the root's is
 * FUSE_ROOT_ID).  One node per kernel inode: a second name of the same
 * inode (a hard link) finds the same node.
 */
struct lklfuse_node {
	struct lklfuse_node *hash_next;
	struct lklfuse_node *lru_prev, *lru_next; /* NULL: not on the list */
	uint64_t ino;
	uint64_t dev;
	uint64_t nlookup;
	uint64_t generation;
	struct k_file_handle *handle;	/* NULL until its fd is first closed */
	/* Without lasting handles: the name it was last looked up by. */
	fuse_ino_t parent;
	char *name;
	int fd;				/* O_PATH; -1: closed, see handle */
	unsigned int users;		/* requests using fd now */
	unsigned int opens;		/* open files of it: fd stays open */
	bool pinned;			/* fd never closed */
	bool hashed;			/* false: forgotten, or stale */
	bool asked;			/* the host was asked to forget it */
};

struct lklfuse_inodes {
	pthread_mutex_t lock;
	struct lklfuse_node **buckets;
	size_t nbuckets;		/* a power of two */
	size_t count;
	uint64_t generation;		/* of the last node made */
	struct lklfuse_node lru;	/* list head: idle nodes with an fd */
	size_t nfds;			/* nodes' descriptors open */
	size_t max_fds;
	size_t asked;			/* nodes asked about, not forgotten */
	bool handles;			/* fds may be closed and reopened */
	int mount_fd;			/* the root, for open_by_handle_at */
	pthread_cond_t crowded;		/* no handles, and past max_fds */
	bool stopping;
	struct lklfuse_node root;
};

/* An open file or directory: fi->fh points at one. */
struct lklfuse_file {
	struct lklfuse_file *prev, *next;	/* lklfuse.files */
	struct lklfuse_node *node;	/* of the inode it opened */
	int fd;				/* kernel descriptor, really open */
	/* Directories: getdents64 results not handed out yet. */
	char *dbuf;
	size_t dlen, dpos;
	int64_t doff;			/* the FUSE offset dbuf[dpos] is at */
};

struct lklfuse_opts {
	char *image;
	char *mountpoint;
	char *type;			/* NULL: recognise it */
	char *kopts;			/* the kernel mount's data */
	char *log;
	char *uid, *gid, *umask;	/* as given, checked by options.c */
	int part;
	int ro;
	int wait_lock;			/* wait for another opener to close */
	int discard;			/* mount with "discard" */
	int norecovery;			/* without replaying the journal */
	unsigned long mb;
	int foreground;
	int single;
	int debug;
	int help;
	int version;
};

struct lklfuse {
	struct lklfuse_opts opts;
	struct fuse_session *se;
	struct lkl_host_disk *disk;
	char kmnt[64];			/* the mount point inside the kernel */
	char fstype[32];
	bool kernel_up, kmounted;
	bool fat_nostale;		/* FAT mounted nfs=nostale_ro */
	bool writeback;			/* the host's writeback cache is on */
	/* The host checks permissions: default_permissions, allow_other. */
	bool host_permissions;
	/* The host knows the ACLs, and leaves the umask to us (ops.c). */
	bool acls;
	/* -o noatime: reading leaves access times alone (ops.c). */
	bool noatime;
	int ready_fd;			/* -1: none, or already told */
	/*
	 * Failures before the mount serves: while the command line is
	 * checked, said as the launcher's (lkl: ...); then as the server's,
	 * the last one kept, so that a server in the foreground (-f) can
	 * add what to do about it (lklfuse.c).
	 */
	bool launching;
	bool advise;			/* -f with no launcher: advice too */
	char failure[512];
	/* io.c: the host's INIT, which offered kill-priv v2 */
	uint64_t init_unique;
	bool init_seen;
	struct lklfuse_inodes inodes;

	pthread_mutex_t files_lock;
	struct lklfuse_file files;	/* list head of open files */

	pthread_key_t scratch_key;	/* per-thread I/O buffer */
	bool scratch_key_made;
	pthread_t forget_thread;
	bool forget_started;
	double timeout;			/* entry and attribute cache, seconds */
	/*
	 * -o uid=, gid=, umask=, as libfuse's high-level API means them:
	 * what every file shows, whatever the image says.
	 */
	bool set_uid, set_gid, set_mode;
	uid_t uid;
	gid_t gid;
	mode_t umask;
};

/* lklfuse.c */
/* Report a failure before the mount serves: stderr and the launcher. */
void __attribute__((format(printf, 2, 3)))
lklfuse_setup_error(struct lklfuse *lf, const char *fmt, ...);

/* A failure to mount whose cure is known (start_failure.c). */
struct lklfuse_failure {
	const char *cause;
	const char *advice;
};

/*
 * The known failure that the server's error line @said or its output
 * @printed (either may be NULL) tells of, or NULL.
 */
const struct lklfuse_failure *lklfuse_known_failure(const char *said,
						    const char *printed);

/* launch.c */
/* One line of the launcher's on stderr, "lkl: ...", printable. */
void __attribute__((format(printf, 1, 2))) lklfuse_say(const char *fmt, ...);
/* The image is there and the mount point a directory: 0, or -1 said. */
int lklfuse_check_target(struct lklfuse *lf);
/*
 * Start the server in the background (this program again, given @argv
 * less -f) and wait until it serves: the status to exit with, 0 once it
 * serves, having said why not otherwise.
 */
int lklfuse_launch(struct lklfuse *lf, int argc, char *argv[]);

/* remount.c */
/* "remount" is among the -o options of @args. */
bool lklfuse_remounting(const struct fuse_args *args);
/* The host's remount of the mount point: the status to exit with. */
int lklfuse_remount(struct lklfuse *lf, const struct fuse_args *args);

/* options.c */
/* What the command line says: the options and a little more. */
struct lklfuse_cmdline {
	struct lklfuse_opts opts;
	int extra_args;		/* more than two non-option arguments */
	bool fsname, subtype;	/* given by the user */
	bool allow_other, default_permissions;
};

/* Ours into @cl, libfuse's left in @args: 0, or -1 (libfuse said why). */
int lklfuse_parse_args(struct fuse_args *args, struct lklfuse_cmdline *cl);
void lklfuse_usage(FILE *f);
/*
 * Check lf->opts and set what every file shows: 0, or the status to exit
 * with (2: not an image and a mount point), reported.
 */
int lklfuse_check_opts(struct lklfuse *lf, const struct lklfuse_cmdline *cl);
/* LKLFUSE_READY_FD, if set and a descriptor: kept from any child; or -1. */
int lklfuse_ready_fd_from_env(void);
/*
 * The libfuse options the user left to us: fsname=@fsname,
 * subtype=@fstype, and default_permissions with allow_other.  0 or -1.
 */
int lklfuse_add_fuse_opts(struct fuse_args *args,
			  const struct lklfuse_cmdline *cl, const char *fsname,
			  const char *fstype);
void lklfuse_free_opts(struct lklfuse_opts *o);
/*
 * Whether the options left for libfuse hold @name, alone between commas
 * ("-o a,b" or "-oa,b").
 */
bool lklfuse_has_fuse_opt(const struct fuse_args *args, const char *name);

/* lifecycle.c (each returns 0, or -1 with the error reported) */
/* Check the image and the mount point, before the boot. */
int lklfuse_check_paths(struct lklfuse *lf);
/* Boot, add the disk, mount it and open its root for the inode table. */
int lklfuse_kernel_start(struct lklfuse *lf);
/* Unmount, remove the disk and halt, so that the image is consistent. */
int lklfuse_kernel_stop(struct lklfuse *lf);

/* inodes.c */
/*
 * @handles: the filesystem's file handles find inodes no longer in
 * memory, so descriptors beyond @max_fds may be closed and reopened.
 */
int lklfuse_inodes_init(struct lklfuse_inodes *t, int root_fd,
			const struct lkl_statx *stx, bool handles,
			size_t max_fds);
/* Close every descriptor and free every node, the root's fd included. */
void lklfuse_inodes_destroy(struct lklfuse_inodes *t);
struct lklfuse_node *lklfuse_node(struct lklfuse_inodes *t, fuse_ino_t ino);
fuse_ino_t lklfuse_node_id(struct lklfuse_inodes *t,
			   const struct lklfuse_node *node);
/*
 * One more lookup of the inode @fd (an O_PATH descriptor) refers to, whose
 * attributes are @stx, found as @name in the directory @parent.  Takes
 * @fd over: it becomes the node's or is closed.  Returns 0 or a negative
 * errno (and @fd is closed then too).
 */
int lklfuse_inodes_add(struct lklfuse_inodes *t, int fd,
		       const struct lkl_statx *stx, fuse_ino_t parent,
		       const char *name, struct lklfuse_node **out);
/* A name the host is asked to forget (see forget.c). */
struct lklfuse_name {
	fuse_ino_t parent;
	char *name;
};

/*
 * Without lasting handles: wait until more than max_fds descriptors are
 * open, then fill @out with up to @max names of the least recently used
 * idle nodes (the caller frees them).  0 once lklfuse_inodes_stop() ran.
 */
size_t lklfuse_inodes_crowded(struct lklfuse_inodes *t,
			      struct lklfuse_name *out, size_t max);
void lklfuse_inodes_stop(struct lklfuse_inodes *t);

/* One more lookup of a node already known. */
void lklfuse_node_ref(struct lklfuse_inodes *t, struct lklfuse_node *node);
void lklfuse_node_forget(struct lklfuse_inodes *t, struct lklfuse_node *node,
			 uint64_t n);
/*
 * The node's O_PATH descriptor, reopened if it was closed, for one
 * request: valid until lklfuse_node_put().  A descriptor, or -errno
 * (-ESTALE: the inode is gone).
 */
int lklfuse_node_get(struct lklfuse_inodes *t, struct lklfuse_node *node);
void lklfuse_node_put(struct lklfuse_inodes *t, struct lklfuse_node *node);
/* A file of the node was opened, or released. */
void lklfuse_node_open(struct lklfuse_inodes *t, struct lklfuse_node *node);
void lklfuse_node_close(struct lklfuse_inodes *t, struct lklfuse_node *node);

/* forget.c */
/*
 * Without lasting handles, a thread that asks the host to drop the
 * entries of idle nodes when too many descriptors are open, so that it
 * forgets their inodes: 0 or -errno.
 */
int lklfuse_forget_start(struct lklfuse *lf);
void lklfuse_forget_stop(struct lklfuse *lf);

/* loop.c */
/*
 * Serve @se's requests on up to @nthreads threads, one reading at a time,
 * until the session ends; then every thread has ended.  @drain, if not
 * NULL, runs before a stop that a signal asked for, while requests are
 * still served.  0 or -errno.
 */
int lklfuse_loop(struct fuse_session *se, unsigned int nthreads,
		 void (*drain)(void *), void *drain_arg);
/*
 * Start up to @n threads running @fn(@arg), every signal blocked in them
 * (signals are the loop's monitor's to read): how many started; *@err is
 * 0, or the positive errno that stopped the rest.
 */
unsigned int lklfuse_start_threads(pthread_t *threads, unsigned int n,
				   void *(*fn)(void *), void *arg, int *err);

/* io.c */
/* /dev/fuse through io.c's hooks, once mounted: 0 or -errno. */
int lklfuse_io_start(struct lklfuse *lf);
/*
 * The request this thread is serving asks to clear the set-user-ID and
 * set-group-ID bits (the caller has no CAP_FSETID).
 */
bool lklfuse_io_kill_suidgid(void);

/* ops.c */
extern const struct fuse_lowlevel_ops lklfuse_ops;
/* Tell the launcher: "ready" or "error: @msg", once. */
void lklfuse_tell_ready(struct lklfuse *lf, const char *msg);
/* Close the descriptors of files FUSE never released. */
void lklfuse_close_files(struct lklfuse *lf);

#endif /* LKLFUSE_LKLFUSE_H */
