// SPDX-License-Identifier: GPL-2.0
/*
 * Host services for the LKL kernel on POSIX systems (Linux/glibc):
 * semaphores, mutexes, threads, thread-local storage, memory, clocks,
 * one-shot timers and context save/restore.
 *
 * Everything is per object; there is no mutable global state, so any
 * number of kernels may share these operations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "posix_host.h"

#define NSEC_PER_SEC		1000000000ULL
/* Minimum stack for threads we start for the kernel. */
#define HOST_THREAD_STACK	(2UL << 20)
/* Deadlines further than this are clamped (about 68 years). */
#define TIMER_MAX_DELTA_NS	(0x7fffffffULL * NSEC_PER_SEC)

_Static_assert(sizeof(pthread_t) <= sizeof(lkl_thread_t),
	       "pthread_t must fit in lkl_thread_t");
_Static_assert(sizeof(jmp_buf) <= sizeof(struct lkl_jmp_buf),
	       "struct lkl_jmp_buf is too small for jmp_buf");
_Static_assert(alignof(jmp_buf) <= alignof(struct lkl_jmp_buf),
	       "struct lkl_jmp_buf is not aligned enough for jmp_buf");

static void host_puts(const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(STDERR_FILENO, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= n;
	}
}

/*
 * A pthread call that cannot fail with valid arguments failed: the
 * process state is corrupt, so report it like a panic and abort.
 */
static void __attribute__((noreturn, cold)) host_fatal(const char *what,
						       int err)
{
	char num[16];
	int i = sizeof(num);

	num[--i] = '\0';
	num[--i] = '\n';
	if (err < 0)
		err = -err;
	do {
		num[--i] = '0' + err % 10;
		err /= 10;
	} while (err && i > 0);

	host_puts("lkl: host: ");
	host_puts(what);
	host_puts(" failed, error ");
	host_puts(&num[i]);
	abort();
}

static inline void host_check(int err, const char *what)
{
	if (err)
		host_fatal(what, err);
}

static void posix_panic(void)
{
	host_puts("lkl: kernel panic, aborting\n");
	abort();
}

/*
 * Counting semaphores.  Every switch between the kernel's tasks is one up
 * and one down (arch/lkl/kernel/threads.c), so they are glibc's, which
 * take the futex only to sleep or to wake a sleeper: a mutex and a
 * condition variable cost a lock, a signal and a wait, each a futex call
 * when the two threads meet, as switching threads always do.
 */

struct lkl_sem {
	sem_t sem;
};

static struct lkl_sem *posix_sem_alloc(int count)
{
	struct lkl_sem *sem = malloc(sizeof(*sem));

	if (!sem)
		return NULL;
	if (sem_init(&sem->sem, 0, count)) {
		free(sem);
		return NULL;
	}
	return sem;
}

static void posix_sem_free(struct lkl_sem *sem)
{
	host_check(sem_destroy(&sem->sem) ? errno : 0, "sem_destroy");
	free(sem);
}

static void posix_sem_up(struct lkl_sem *sem)
{
	host_check(sem_post(&sem->sem) ? errno : 0, "sem_post");
}

static void posix_sem_down(struct lkl_sem *sem)
{
	while (sem_wait(&sem->sem)) {
		if (errno != EINTR)
			host_check(errno, "sem_wait");
	}
}

/* Mutexes */

struct lkl_mutex {
	pthread_mutex_t mutex;
};

static struct lkl_mutex *posix_mutex_alloc(void)
{
	struct lkl_mutex *m = malloc(sizeof(*m));

	if (!m)
		return NULL;
	if (pthread_mutex_init(&m->mutex, NULL)) {
		free(m);
		return NULL;
	}
	return m;
}

static void posix_mutex_free(struct lkl_mutex *m)
{
	host_check(pthread_mutex_destroy(&m->mutex), "pthread_mutex_destroy");
	free(m);
}

static void posix_mutex_lock(struct lkl_mutex *m)
{
	host_check(pthread_mutex_lock(&m->mutex), "pthread_mutex_lock");
}

static void posix_mutex_unlock(struct lkl_mutex *m)
{
	host_check(pthread_mutex_unlock(&m->mutex), "pthread_mutex_unlock");
}

/* Threads */

/*
 * Start a joinable thread with every signal blocked (it inherits the mask
 * in force at pthread_create) and a stack of at least HOST_THREAD_STACK.
 * Returns 0 or a positive error number.
 */
static int start_thread(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	size_t stack = HOST_THREAD_STACK;
	pthread_attr_t attr;
	sigset_t all, old;
	int err;

	err = pthread_attr_init(&attr);
	if (err)
		return err;
	if (stack < (size_t)PTHREAD_STACK_MIN)
		stack = PTHREAD_STACK_MIN;
	err = pthread_attr_setstacksize(&attr, stack);
	if (err)
		goto out;
	if (sigfillset(&all)) {
		err = errno;
		goto out;
	}
	err = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (err)
		goto out;
	err = pthread_create(thread, &attr, fn, arg);
	host_check(pthread_sigmask(SIG_SETMASK, &old, NULL), "pthread_sigmask");
out:
	host_check(pthread_attr_destroy(&attr), "pthread_attr_destroy");
	return err;
}

struct thread_start {
	void (*fn)(void *arg);
	void *arg;
};

static void *thread_trampoline(void *p)
{
	struct thread_start start = *(struct thread_start *)p;

	free(p);
	start.fn(start.arg);
	return NULL;
}

static lkl_thread_t posix_thread_create(void (*fn)(void *), void *arg)
{
	struct thread_start *start = malloc(sizeof(*start));
	pthread_t thread;

	if (!start)
		return 0;
	start->fn = fn;
	start->arg = arg;
	if (start_thread(&thread, thread_trampoline, start)) {
		free(start);
		return 0;
	}
	return (lkl_thread_t)thread;
}

static void posix_thread_detach(void)
{
	host_check(pthread_detach(pthread_self()), "pthread_detach");
}

static void posix_thread_exit(void)
{
	pthread_exit(NULL);
}

static int posix_thread_join(lkl_thread_t tid)
{
	int err = pthread_join((pthread_t)tid, NULL);

	return err ? -err : 0;
}

static lkl_thread_t posix_thread_self(void)
{
	return (lkl_thread_t)pthread_self();
}

/* Thread-local storage */

struct lkl_tls_key {
	pthread_key_t key;
};

static struct lkl_tls_key *posix_tls_alloc(void (*destructor)(void *))
{
	struct lkl_tls_key *k = malloc(sizeof(*k));

	if (!k)
		return NULL;
	if (pthread_key_create(&k->key, destructor)) {
		free(k);
		return NULL;
	}
	return k;
}

static void posix_tls_free(struct lkl_tls_key *k)
{
	host_check(pthread_key_delete(k->key), "pthread_key_delete");
	free(k);
}

static int posix_tls_set(struct lkl_tls_key *k, void *data)
{
	int err = pthread_setspecific(k->key, data);

	return err ? -err : 0;
}

static void *posix_tls_get(struct lkl_tls_key *k)
{
	return pthread_getspecific(k->key);
}

/* Memory */

/*
 * The kernel's RAM is a memfd mapped shared, so that mem_alias() can map
 * its pages a second time at another address: the kernel's vmap() of
 * pages scattered over RAM (linux/arch/lkl/kernel/vmap.c), which it
 * cannot do itself without an MMU.  Without memfd_create() (a seccomp
 * filter that refuses it) the RAM is plain memory and aliases fail, as
 * vmap() may.  One kernel runs per process, so one RAM.  Its pages cost
 * more to fault in than anonymous ones: about 50 ms of CPU over a
 * process that touches all 48 MiB (fs2tar of the Debian root 1.06x,
 * of ten of them 1.00x, A/B with plain memory).
 */
static struct {
	void *base;
	unsigned long size;
	int fd;
} ram = { .fd = -1 };

static long page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? page : 4096;
}

static void *posix_mem_alloc(unsigned long size)
{
	long page = page_size();
	void *mem;
	int fd;

	if (ram.base)
		return NULL;
	size = (size + page - 1) / page * page;
	fd = memfd_create("lkl-ram", MFD_CLOEXEC);
	if (fd < 0) {
		if (posix_memalign(&mem, page, size))
			return NULL;
		ram.base = mem;
		ram.size = size;
		return mem;
	}
	if (ftruncate(fd, size)) {
		close(fd);
		return NULL;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	/*
	 * A child forked while the kernel runs (to exec something else)
	 * must not share its RAM: without this it would, being shared.
	 * Only a child that touched it could tell, so a failure is let be.
	 */
	(void)madvise(mem, size, MADV_DONTFORK);
	ram.base = mem;
	ram.size = size;
	ram.fd = fd;
	return mem;
}

static void posix_mem_free(void *mem)
{
	if (mem != ram.base)
		return;
	if (ram.fd < 0) {
		free(mem);
	} else {
		munmap(mem, ram.size);
		close(ram.fd);
	}
	ram.base = NULL;
	ram.size = 0;
	ram.fd = -1;
}

static void *posix_mem_alias(const unsigned long *pages, unsigned int count)
{
	unsigned long page = page_size(), len = (unsigned long)count * page;
	unsigned int i, run;
	char *addr;

	if (ram.fd < 0 || !count)
		return NULL;
	/* Address space first, then each run of consecutive pages into it. */
	addr = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_NORESERVE, -1, 0);
	if (addr == MAP_FAILED)
		return NULL;
	for (i = 0; i < count; i += run) {
		if (pages[i] >= ram.size / page)
			goto fail;
		for (run = 1; i + run < count &&
			      pages[i + run] == pages[i] + run; run++)
			;
		if (pages[i] + run > ram.size / page)
			goto fail;
		if (mmap(addr + (unsigned long)i * page, (unsigned long)run * page,
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, ram.fd,
			 (off_t)(pages[i] * page)) == MAP_FAILED)
			goto fail;
	}
	return addr;
fail:
	munmap(addr, len);
	return NULL;
}

static void posix_mem_unalias(void *addr, unsigned int count)
{
	munmap(addr, (unsigned long)count * page_size());
}

/* Clocks */

static unsigned long long clock_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts))
		host_fatal("clock_gettime", errno);
	return (unsigned long long)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static unsigned long long posix_time_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static unsigned long long posix_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* One-shot timers: one host thread per timer */

struct lkl_timer {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* waits on CLOCK_MONOTONIC */
	pthread_t thread;
	void (*fn)(void *arg);
	void *arg;
	unsigned long long deadline;	/* CLOCK_MONOTONIC ns, if armed */
	bool armed;
	bool stop;
	bool self_free;			/* freed from fn: the thread frees it */
};

static void timer_destroy(struct lkl_timer *t)
{
	host_check(pthread_cond_destroy(&t->cond), "pthread_cond_destroy");
	host_check(pthread_mutex_destroy(&t->lock), "pthread_mutex_destroy");
	free(t);
}

static void *timer_thread(void *p)
{
	struct lkl_timer *t = p;
	unsigned long long now;
	struct timespec ts;
	bool self_free;
	int err;

	host_check(pthread_mutex_lock(&t->lock), "pthread_mutex_lock");
	while (!t->stop) {
		if (!t->armed) {
			host_check(pthread_cond_wait(&t->cond, &t->lock),
				   "pthread_cond_wait");
			continue;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (now < t->deadline) {
			ts.tv_sec = t->deadline / NSEC_PER_SEC;
			ts.tv_nsec = t->deadline % NSEC_PER_SEC;
			err = pthread_cond_timedwait(&t->cond, &t->lock, &ts);
			if (err && err != ETIMEDOUT)
				host_fatal("pthread_cond_timedwait", err);
			continue;
		}
		t->armed = false;
		host_check(pthread_mutex_unlock(&t->lock),
			   "pthread_mutex_unlock");
		t->fn(t->arg);
		host_check(pthread_mutex_lock(&t->lock), "pthread_mutex_lock");
	}
	self_free = t->self_free;
	host_check(pthread_mutex_unlock(&t->lock), "pthread_mutex_unlock");
	if (self_free)
		timer_destroy(t);
	return NULL;
}

static struct lkl_timer *posix_timer_alloc(void (*fn)(void *), void *arg)
{
	struct lkl_timer *t = calloc(1, sizeof(*t));
	pthread_condattr_t attr;
	int err;

	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	if (pthread_mutex_init(&t->lock, NULL))
		goto free_timer;
	if (pthread_condattr_init(&attr))
		goto destroy_lock;
	err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(&t->cond, &attr);
	host_check(pthread_condattr_destroy(&attr), "pthread_condattr_destroy");
	if (err)
		goto destroy_lock;
	if (start_thread(&t->thread, timer_thread, t))
		goto destroy_cond;
	return t;

destroy_cond:
	host_check(pthread_cond_destroy(&t->cond), "pthread_cond_destroy");
destroy_lock:
	host_check(pthread_mutex_destroy(&t->lock), "pthread_mutex_destroy");
free_timer:
	free(t);
	return NULL;
}

static int posix_timer_set_oneshot(struct lkl_timer *t,
				   unsigned long long delta_ns)
{
	unsigned long long now = clock_ns(CLOCK_MONOTONIC);

	if (delta_ns > TIMER_MAX_DELTA_NS)
		delta_ns = TIMER_MAX_DELTA_NS;
	host_check(pthread_mutex_lock(&t->lock), "pthread_mutex_lock");
	t->deadline = now + delta_ns;
	t->armed = true;
	host_check(pthread_cond_signal(&t->cond), "pthread_cond_signal");
	host_check(pthread_mutex_unlock(&t->lock), "pthread_mutex_unlock");
	return 0;
}

/*
 * Stop the timer's thread and free it.  The thread never calls fn while
 * holding the lock, and checks stop under the lock before every call, so
 * once the join returns fn is neither running nor going to run.  If fn
 * itself frees its own timer, the join would deadlock: the thread is
 * detached instead and frees the timer once fn returns.
 */
static void posix_timer_free(struct lkl_timer *t)
{
	bool self;

	host_check(pthread_mutex_lock(&t->lock), "pthread_mutex_lock");
	self = pthread_equal(t->thread, pthread_self());
	t->stop = true;
	t->armed = false;
	t->self_free = self;
	host_check(pthread_cond_signal(&t->cond), "pthread_cond_signal");
	host_check(pthread_mutex_unlock(&t->lock), "pthread_mutex_unlock");

	if (self) {
		host_check(pthread_detach(pthread_self()), "pthread_detach");
		return;
	}
	host_check(pthread_join(t->thread, NULL), "pthread_join");
	timer_destroy(t);
}

/* Context save/restore */

static void posix_jmp_buf_set(struct lkl_jmp_buf *jb, void (*f)(void))
{
	if (!setjmp(*(jmp_buf *)jb->buf))
		f();
}

static void posix_jmp_buf_longjmp(struct lkl_jmp_buf *jb, int val)
{
	longjmp(*(jmp_buf *)jb->buf, val);
}

void lkl_posix_host_set_print(struct lkl_host_ops *ops,
			      void (*print)(const char *str, int len))
{
	ops->print = print;
}

const struct lkl_host_ops lkl_posix_host_ops = {
	.print = NULL,
	.panic = posix_panic,
	.sem_alloc = posix_sem_alloc,
	.sem_free = posix_sem_free,
	.sem_up = posix_sem_up,
	.sem_down = posix_sem_down,
	.mutex_alloc = posix_mutex_alloc,
	.mutex_free = posix_mutex_free,
	.mutex_lock = posix_mutex_lock,
	.mutex_unlock = posix_mutex_unlock,
	.thread_create = posix_thread_create,
	.thread_detach = posix_thread_detach,
	.thread_exit = posix_thread_exit,
	.thread_join = posix_thread_join,
	.thread_self = posix_thread_self,
	.tls_alloc = posix_tls_alloc,
	.tls_free = posix_tls_free,
	.tls_set = posix_tls_set,
	.tls_get = posix_tls_get,
	.mem_alloc = posix_mem_alloc,
	.mem_alias = posix_mem_alias,
	.mem_unalias = posix_mem_unalias,
	.mem_free = posix_mem_free,
	.time_ns = posix_time_ns,
	.realtime_ns = posix_realtime_ns,
	.timer_alloc = posix_timer_alloc,
	.timer_set_oneshot = posix_timer_set_oneshot,
	.timer_free = posix_timer_free,
	.jmp_buf_set = posix_jmp_buf_set,
	.jmp_buf_longjmp = posix_jmp_buf_longjmp,
	/* libc's, tuned for this CPU: every byte read or written goes through them. */
	.memcpy = memcpy,
	.memset = memset,
	.memmove = memmove,
};
