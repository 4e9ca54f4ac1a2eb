// SPDX-License-Identifier: GPL-2.0
//
// Calls into the kernel run on threads of their own, not on libuv's pool.
//
// Each host thread that calls into the kernel runs as a kernel task of its
// own (linux/arch/lkl/kernel/syscalls.c), and a call from a thread other
// than the last one's is a switch between two such tasks: a futex wake of
// one host thread and a sleep of the other.  libuv hands work to whichever
// of its threads wakes first, so nearly every call was such a switch: 24
// futex calls per file of a copy, a third of its time.  Here a call goes to
// the lowest-numbered idle thread, so that calls one after the other stay
// on one thread and one kernel task; more threads start only while calls
// overlap (a read blocked on a pipe must not hold up the write that would
// end it), up to MAX_THREADS, and calls beyond that wait their turn.  That
// is four times libuv's default pool: calls blocked in the kernel (FIFOs,
// locks) are rare, and a thread that never starts costs nothing.
// libuv's pool is left to the work on the host's own files.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <napi.h>
#include <pthread.h>
#include <signal.h>
#include <system_error>
#include <thread>
#include <vector>

#include "run.h"

namespace lkl {

namespace {

constexpr size_t MAX_THREADS = 16;

struct Call {
	Work work;
	Done done;
	Napi::Promise::Deferred deferred;
	long result = 0;
};

void Settle(Napi::Env env, Napi::Function, void *, Call *call);

using Completions = Napi::TypedThreadSafeFunction<void, Call, Settle>;

struct Worker {
	std::condition_variable wake;
	Call *call = nullptr;
	bool started = false;
};

// One per Node environment (a worker_thread loading the addon has its
// own), for as long as the environment lives.
class KernelCalls {
public:
	explicit KernelCalls(Napi::Env env)
		: completions_(Completions::New(env, "lkl kernel call", 0, 1))
	{
		completions_.Unref(env);
	}

	// On the main thread.
	Napi::Promise Submit(Napi::Env env, Work work, Done done)
	{
		Call *call = Pending(env, std::move(work), std::move(done));
		Napi::Promise promise = call->deferred.Promise();
		std::lock_guard<std::mutex> hold(lock_);
		for (size_t i = 0; i < MAX_THREADS; i++) {
			Worker &w = workers_[i];

			if (w.call)
				continue;
			if (!w.started && !Start(i)) {
				if (i == 0) {
					// No thread at all: fail this call.
					call->result = -EAGAIN;
					Finish(call);
					return promise;
				}
				break;
			}
			w.call = call;
			w.wake.notify_one();
			return promise;
		}
		queue_.push_back(call);
		return promise;
	}

	// On the main thread: @work on a thread of its own, which ends with
	// it, never queued behind calls blocked in the kernel (which a halt
	// must end).
	Napi::Promise SubmitApart(Napi::Env env, Work work, Done done)
	{
		Call *call = Pending(env, std::move(work), std::move(done));
		Napi::Promise promise = call->deferred.Promise();

		if (!Spawn([this, call] {
			    call->result = call->work();
			    Finish(call);
		    })) {
			call->result = -EAGAIN;
			Finish(call);
		}
		return promise;
	}

	// On the main thread, once per completed call.
	void Settled(Napi::Env env)
	{
		if (--pending_ == 0)
			completions_.Unref(env);
	}

private:
	// On the main thread: a new call, counted as pending until Settled();
	// the pending calls keep the event loop alive, as libuv's requests do.
	Call *Pending(Napi::Env env, Work work, Done done)
	{
		if (pending_++ == 0)
			completions_.Ref(env);
		return new Call{ std::move(work), std::move(done),
				 Napi::Promise::Deferred::New(env) };
	}

	bool Start(size_t i)
	{
		workers_[i].started = Spawn([this, i] { Loop(i); });
		return workers_[i].started;
	}

	// A detached thread running @fn.  Kernel code must not be
	// interrupted by Node's signal handlers: it starts with every signal
	// blocked.
	static bool Spawn(std::function<void()> fn)
	{
		sigset_t all, old;
		bool started = false;

		sigfillset(&all);
		if (pthread_sigmask(SIG_SETMASK, &all, &old))
			return false;
		try {
			std::thread(std::move(fn)).detach();
			started = true;
		} catch (const std::system_error &) {
		}
		pthread_sigmask(SIG_SETMASK, &old, nullptr);
		return started;
	}

	// A thread's life.  It is detached: a call may still be in the
	// kernel when the environment ends (a read of a pipe nobody writes).
	void Loop(size_t i)
	{
		Worker &w = workers_[i];
		std::unique_lock<std::mutex> hold(lock_);

		for (;;) {
			w.wake.wait(hold, [&w] { return w.call != nullptr; });
			Call *call = w.call;

			hold.unlock();
			call->result = call->work();
			hold.lock();
			// Idle (or on to the next queued call) before the result
			// goes out: the call it prompts comes back to this thread.
			if (queue_.empty()) {
				w.call = nullptr;
			} else {
				w.call = queue_.front();
				queue_.pop_front();
			}
			hold.unlock();
			Finish(call);
			hold.lock();
		}
	}

	void Finish(Call *call)
	{
		// Only fails once the environment is going away, when nobody
		// waits for the promise any more.
		if (completions_.NonBlockingCall(call) != napi_ok)
			delete call;
	}

	Completions completions_;
	size_t pending_ = 0;
	std::mutex lock_;
	Worker workers_[MAX_THREADS];
	std::deque<Call *> queue_;
};

// On the main thread: the call's promise settles, as OpWorker::OnOK does.
void Settle(Napi::Env env, Napi::Function, void *, Call *call)
{
	std::unique_ptr<Call> own(call);

	if (env == nullptr)
		return;		// the environment is being torn down
	env.GetInstanceData<KernelCalls>()->Settled(env);
	Napi::HandleScope scope(env);
	if (call->result < 0) {
		call->deferred.Reject(ErrnoError(env, call->result).Value());
		return;
	}
	try {
		call->deferred.Resolve(call->done(env, call->result));
	} catch (const Napi::Error &e) {
		call->deferred.Reject(e.Value());
	}
}

void KeepCalls(Napi::Env, KernelCalls *)
{
}

} // namespace

static KernelCalls *Calls(Napi::Env env)
{
	auto *calls = env.GetInstanceData<KernelCalls>();

	if (!calls) {
		calls = new KernelCalls(env);
		// Never freed: a detached thread may still use it at the end.
		env.SetInstanceData<KernelCalls, KeepCalls>(calls);
	}
	return calls;
}

Napi::Value RunKernel(Napi::Env env, bool async, Work work, Done done)
{
	if (!async)
		return Run(env, false, std::move(work), std::move(done));
	return Calls(env)->Submit(env, std::move(work), std::move(done));
}

Napi::Value RunKernelApart(Napi::Env env, bool async, Work work, Done done)
{
	if (!async)
		return Run(env, false, std::move(work), std::move(done));
	return Calls(env)->SubmitApart(env, std::move(work), std::move(done));
}

} // namespace lkl
