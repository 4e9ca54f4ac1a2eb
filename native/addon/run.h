// SPDX-License-Identifier: GPL-2.0
//
// One mechanism for every call into the kernel: the work (a function
// returning a result or a negative errno) runs either at once, for the
// *Sync variants, or on libuv's thread pool, so that the event loop never
// waits for the kernel.  The JavaScript value is built afterwards on the
// main thread.
#ifndef LKL_ADDON_RUN_H
#define LKL_ADDON_RUN_H

#include <functional>
#include <napi.h>

namespace lkl {

using Work = std::function<long()>;
using Done = std::function<Napi::Value(Napi::Env, long)>;

// A Node-style error carrying the (negative) errno; src/lkl adds the rest.
Napi::Error ErrnoError(Napi::Env env, long err);

class OpWorker : public Napi::AsyncWorker {
public:
	OpWorker(Napi::Env env, Work work, Done done)
		: Napi::AsyncWorker(env, "lkl"), work_(std::move(work)),
		  done_(std::move(done)), deferred_(Napi::Promise::Deferred::New(env))
	{
	}

	Napi::Promise Promise() { return deferred_.Promise(); }

protected:
	void Execute() override { result_ = work_(); }

	void OnOK() override
	{
		Napi::Env env = Env();
		Napi::HandleScope scope(env);

		if (result_ < 0) {
			deferred_.Reject(ErrnoError(env, result_).Value());
			return;
		}
		try {
			deferred_.Resolve(done_(env, result_));
		} catch (const Napi::Error &e) {
			deferred_.Reject(e.Value());
		}
	}

private:
	Work work_;
	Done done_;
	Napi::Promise::Deferred deferred_;
	long result_ = 0;
};

inline Napi::Value Run(Napi::Env env, bool async, Work work, Done done)
{
	if (async) {
		auto *w = new OpWorker(env, std::move(work), std::move(done));
		Napi::Promise p = w->Promise();
		w->Queue();
		return p;
	}
	long ret = work();
	if (ret < 0)
		throw ErrnoError(env, ret);
	return done(env, ret);
}

// Run() for calls into the kernel: on threads of the addon's own that keep
// consecutive calls on one thread, and so on one kernel task
// (kernel_calls.cc), rather than on libuv's pool.
Napi::Value RunKernel(Napi::Env env, bool async, Work work, Done done);
// RunKernel() on a thread of its own, which may start however many calls
// are blocked in the kernel: for the halt, which ends them.
Napi::Value RunKernelApart(Napi::Env env, bool async, Work work, Done done);

inline Napi::Value Undefined(Napi::Env env, long)
{
	return env.Undefined();
}

inline Napi::Value Number(Napi::Env env, long ret)
{
	return Napi::Number::New(env, static_cast<double>(ret));
}

// Arguments, checked at the boundary; src/lkl validates before calling.
std::string ArgString(const Napi::CallbackInfo &info, size_t i);
std::string ArgPath(const Napi::CallbackInfo &info, size_t i);
int ArgInt(const Napi::CallbackInfo &info, size_t i);
long long ArgInt64(const Napi::CallbackInfo &info, size_t i);
bool ArgBool(const Napi::CallbackInfo &info, size_t i);

// Registers NAME (async) and NAMESync with one implementation.
using Impl = Napi::Value (*)(const Napi::CallbackInfo &info, bool async);
void Export(Napi::Env env, Napi::Object exports, const char *name, Impl impl);

void InitKernel(Napi::Env env, Napi::Object exports);
void InitFs(Napi::Env env, Napi::Object exports);
void InitFd(Napi::Env env, Napi::Object exports);
void InitHost(Napi::Env env, Napi::Object exports);
void InitScan(Napi::Env env, Napi::Object exports);
void InitPut(Napi::Env env, Napi::Object exports);
void InitFsIds(Napi::Env env, Napi::Object exports);

} // namespace lkl

#endif
