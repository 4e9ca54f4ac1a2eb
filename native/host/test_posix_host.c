// SPDX-License-Identifier: GPL-2.0
/*
 * Standalone test of the POSIX host operations.
 *
 * Build and run (from native/; "make check" does it):
 *
 *	gcc -Wall -Wextra -Werror -O2 -g -fPIC -pthread \
 *		-I../build/include \
 *		-fsanitize=address,undefined -fno-sanitize-recover=all \
 *		host/test_posix_host.c host/posix_host.c -o /tmp/test_posix_host
 *	/tmp/test_posix_host
 *
 * Without the sanitizer flags it also runs under
 * valgrind --error-exitcode=1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "posix_host.h"
#include "../test/unit.h"

#define MSEC	1000000ULL

static const struct lkl_host_ops *ops = &lkl_posix_host_ops;

static void check_all_blocked(void)
{
	sigset_t mask;

	CHECK(!pthread_sigmask(SIG_BLOCK, NULL, &mask));
	CHECK(sigismember(&mask, SIGINT) == 1);
	CHECK(sigismember(&mask, SIGTERM) == 1);
	CHECK(sigismember(&mask, SIGUSR1) == 1);
	CHECK(sigismember(&mask, SIGALRM) == 1);
	CHECK(sigismember(&mask, SIGPIPE) == 1);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		CHECK(errno == EINTR);
}

/* Semaphores and mutexes */

struct counter {
	struct lkl_mutex *lock;
	struct lkl_sem *done;
	long value;
};

static void count_fn(void *arg)
{
	struct counter *c = arg;
	int i;

	for (i = 0; i < 100000; i++) {
		ops->mutex_lock(c->lock);
		c->value++;
		ops->mutex_unlock(c->lock);
	}
	ops->sem_up(c->done);
}

static void test_sem_mutex(void)
{
	struct counter c;
	lkl_thread_t tids[4];
	struct lkl_sem *sem;
	int i;

	sem = ops->sem_alloc(2);
	CHECK(sem);
	ops->sem_down(sem);
	ops->sem_down(sem);
	ops->sem_up(sem);
	ops->sem_down(sem);
	ops->sem_free(sem);

	c.lock = ops->mutex_alloc();
	c.done = ops->sem_alloc(0);
	c.value = 0;
	CHECK(c.lock && c.done);
	for (i = 0; i < 4; i++) {
		tids[i] = ops->thread_create(count_fn, &c);
		CHECK(tids[i]);
	}
	for (i = 0; i < 4; i++)
		ops->sem_down(c.done);
	CHECK(c.value == 400000);
	for (i = 0; i < 4; i++)
		CHECK(ops->thread_join(tids[i]) == 0);
	ops->sem_free(c.done);
	ops->mutex_free(c.lock);
}

/* Threads and TLS */

struct thread_test {
	struct lkl_tls_key *key;
	struct lkl_sem *sem;
	lkl_thread_t self;
	size_t stack;
	int destructed;
	bool after_exit;
};

static void tls_destructor(void *data)
{
	struct thread_test *t = data;

	__atomic_add_fetch(&t->destructed, 1, __ATOMIC_SEQ_CST);
}

static void thread_fn(void *arg)
{
	struct thread_test *t = arg;
	pthread_attr_t attr;

	check_all_blocked();
	t->self = ops->thread_self();
	CHECK(!pthread_getattr_np(pthread_self(), &attr));
	CHECK(!pthread_attr_getstacksize(&attr, &t->stack));
	CHECK(!pthread_attr_destroy(&attr));

	CHECK(ops->tls_get(t->key) == NULL);
	CHECK(ops->tls_set(t->key, t) == 0);
	CHECK(ops->tls_get(t->key) == t);
	ops->thread_exit();
	t->after_exit = true;
}

static void detached_fn(void *arg)
{
	struct thread_test *t = arg;

	ops->thread_detach();
	check_all_blocked();
	CHECK(ops->tls_set(t->key, t) == 0);
	ops->sem_up(t->sem);
}

static void test_threads(void)
{
	struct thread_test t = { 0 };
	lkl_thread_t tid;
	int i;

	t.key = ops->tls_alloc(tls_destructor);
	t.sem = ops->sem_alloc(0);
	CHECK(t.key && t.sem);
	CHECK(ops->tls_get(t.key) == NULL);

	tid = ops->thread_create(thread_fn, &t);
	CHECK(tid);
	CHECK(ops->thread_join(tid) == 0);
	CHECK(t.self == tid);
	CHECK(t.stack >= (2UL << 20));
	CHECK(t.destructed == 1);
	CHECK(!t.after_exit);
	CHECK(ops->thread_self() == (lkl_thread_t)pthread_self());

	tid = ops->thread_create(detached_fn, &t);
	CHECK(tid);
	ops->sem_down(t.sem);
	/* the destructor runs as the detached thread ends */
	for (i = 0; i < 1000 && __atomic_load_n(&t.destructed,
						 __ATOMIC_SEQ_CST) != 2; i++)
		sleep_ms(1);
	CHECK(__atomic_load_n(&t.destructed, __ATOMIC_SEQ_CST) == 2);

	ops->tls_free(t.key);
	ops->sem_free(t.sem);
}

/* Memory and clocks */

static void test_mem_time(void)
{
	unsigned long long t1, t2, rt;
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *mem;

	mem = ops->mem_alloc(3 * 1024 * 1024 + 5);
	CHECK(mem);
	CHECK((unsigned long)mem % page == 0);
	memset(mem, 0x5a, 3 * 1024 * 1024 + 5);
	ops->mem_free(mem);

	/* vmap()'s aliases: pages 3 and 1, side by side, the same memory. */
	mem = ops->mem_alloc(8 * page);
	CHECK(mem);
	if (mem) {
		const unsigned long pages[] = { 3, 1 };
		unsigned char *alias;

		memset(mem + 1 * page, 0x11, page);
		memset(mem + 3 * page, 0x33, page);
		alias = ops->mem_alias(pages, 2);
		CHECK(alias);
		if (alias) {
			CHECK(alias[0] == 0x33 && alias[page - 1] == 0x33);
			CHECK(alias[page] == 0x11 && alias[2 * page - 1] == 0x11);
			alias[page] = 0x77;
			CHECK(mem[1 * page] == 0x77);
			ops->mem_unalias(alias, 2);
		}
		{
			const unsigned long outside[] = { 8 };

			CHECK(!ops->mem_alias(outside, 1));
		}
		ops->mem_free(mem);
	}

	t1 = ops->time_ns();
	sleep_ms(10);
	t2 = ops->time_ns();
	CHECK(t2 - t1 >= 10 * MSEC && t2 - t1 < 5000 * MSEC);
	rt = ops->realtime_ns();
	CHECK(rt / 1000000000ULL >= (unsigned long long)time(NULL) - 1);
	CHECK(rt / 1000000000ULL <= (unsigned long long)time(NULL) + 1);
}

/* Timers */

struct timer_test {
	struct lkl_timer *timer;
	struct lkl_sem *fired;
	unsigned long long when;
	int count;
	int rearm;		/* re-arm from the callback this many times */
	unsigned int sleep_ms;	/* stay in the callback this long */
	bool in_fn;
	bool free_self;
	struct timer_test *free_other;
};

static void timer_fn(void *arg)
{
	struct timer_test *t = arg;

	check_all_blocked();
	__atomic_store_n(&t->in_fn, true, __ATOMIC_SEQ_CST);
	t->when = ops->time_ns();
	t->count++;
	if (t->sleep_ms)
		sleep_ms(t->sleep_ms);
	if (t->rearm) {
		t->rearm--;
		CHECK(ops->timer_set_oneshot(t->timer, 1 * MSEC) == 0);
	}
	if (t->free_other)
		ops->timer_free(t->free_other->timer);
	if (t->free_self)
		ops->timer_free(t->timer);
	__atomic_store_n(&t->in_fn, false, __ATOMIC_SEQ_CST);
	ops->sem_up(t->fired);
}

static void timer_init(struct timer_test *t)
{
	memset(t, 0, sizeof(*t));
	t->fired = ops->sem_alloc(0);
	CHECK(t->fired);
	t->timer = ops->timer_alloc(timer_fn, t);
	CHECK(t->timer);
}

static void test_timers(void)
{
	struct timer_test a, b;
	unsigned long long start;

	/* fires once, not early */
	timer_init(&a);
	start = ops->time_ns();
	CHECK(ops->timer_set_oneshot(a.timer, 20 * MSEC) == 0);
	ops->sem_down(a.fired);
	CHECK(a.when - start >= 20 * MSEC);
	CHECK(a.when - start < 2000 * MSEC);
	sleep_ms(50);
	CHECK(a.count == 1);

	/* re-arming replaces the earlier deadline */
	start = ops->time_ns();
	CHECK(ops->timer_set_oneshot(a.timer, 300 * MSEC) == 0);
	CHECK(ops->timer_set_oneshot(a.timer, 5 * MSEC) == 0);
	ops->sem_down(a.fired);
	CHECK(a.when - start >= 5 * MSEC && a.when - start < 250 * MSEC);
	sleep_ms(400);
	CHECK(a.count == 2);

	/* re-armed from its own callback */
	a.rearm = 4;
	CHECK(ops->timer_set_oneshot(a.timer, 1 * MSEC) == 0);
	for (int i = 0; i < 5; i++)
		ops->sem_down(a.fired);
	CHECK(a.count == 7);

	/* freed while armed: never fires */
	CHECK(ops->timer_set_oneshot(a.timer, 30 * MSEC) == 0);
	ops->timer_free(a.timer);
	sleep_ms(60);
	CHECK(a.count == 7);
	ops->sem_free(a.fired);

	/* freed while the callback runs: waits for it */
	timer_init(&a);
	a.sleep_ms = 100;
	CHECK(ops->timer_set_oneshot(a.timer, 0) == 0);
	while (!__atomic_load_n(&a.in_fn, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	ops->timer_free(a.timer);
	CHECK(!__atomic_load_n(&a.in_fn, __ATOMIC_SEQ_CST));
	CHECK(a.count == 1);
	ops->sem_down(a.fired);
	ops->sem_free(a.fired);

	/* freed from its own callback, and from another timer's callback */
	timer_init(&a);
	timer_init(&b);
	a.free_self = true;
	a.free_other = &b;
	b.sleep_ms = 50;
	CHECK(ops->timer_set_oneshot(b.timer, 0) == 0);
	while (!__atomic_load_n(&b.in_fn, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	CHECK(ops->timer_set_oneshot(a.timer, 0) == 0);
	ops->sem_down(a.fired);
	CHECK(a.count == 1 && b.count == 1);
	CHECK(!__atomic_load_n(&b.in_fn, __ATOMIC_SEQ_CST));
	ops->sem_down(b.fired);
	sleep_ms(20);	/* let the self-freed timer's thread finish */
	ops->sem_free(a.fired);
	ops->sem_free(b.fired);
}

/* Context save/restore */

static struct lkl_jmp_buf test_jb;
static int jmp_steps;

static void jump_fn(void)
{
	jmp_steps++;
	ops->jmp_buf_longjmp(&test_jb, 1);
	jmp_steps += 100;
}

static void return_fn(void)
{
	jmp_steps++;
}

static void test_jmp_buf(void)
{
	jmp_steps = 0;
	ops->jmp_buf_set(&test_jb, jump_fn);
	CHECK(jmp_steps == 1);
	ops->jmp_buf_set(&test_jb, return_fn);
	CHECK(jmp_steps == 2);
}

static void print_fn(const char *str, int len)
{
	(void)str;
	(void)len;
}

static void test_print_panic(void)
{
	struct lkl_host_ops copy = lkl_posix_host_ops;
	int status;
	pid_t pid;

	CHECK(lkl_posix_host_ops.print == NULL);
	lkl_posix_host_set_print(&copy, print_fn);
	CHECK(copy.print == print_fn);

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		copy.panic();
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int main(void)
{
	test_sem_mutex();
	test_threads();
	test_mem_time();
	test_timers();
	test_jmp_buf();
	test_print_panic();
	printf("test_posix_host: all passed\n");
	return 0;
}
