// SPDX-License-Identifier: GPL-2.0
//
// The Node-API addon: thin mechanics over the host library.  Policy
// (validation, error shaping, path handling) lives in src/lkl.
#include <cstring>
#include <napi.h>

#include "run.h"

namespace lkl {

Napi::Error ErrnoError(Napi::Env env, long err)
{
	Napi::Error e = Napi::Error::New(env, std::strerror(static_cast<int>(-err)));
	e.Set("errno", Napi::Number::New(env, static_cast<double>(err)));
	return e;
}

std::string ArgString(const Napi::CallbackInfo &info, size_t i)
{
	if (!info[i].IsString())
		throw Napi::TypeError::New(info.Env(), "argument " +
					   std::to_string(i) + " must be a string");
	return info[i].As<Napi::String>().Utf8Value();
}

int ArgInt(const Napi::CallbackInfo &info, size_t i)
{
	if (!info[i].IsNumber())
		throw Napi::TypeError::New(info.Env(), "argument " +
					   std::to_string(i) + " must be a number");
	return info[i].As<Napi::Number>().Int32Value();
}

long long ArgInt64(const Napi::CallbackInfo &info, size_t i)
{
	if (info[i].IsBigInt()) {
		bool lossless;

		return info[i].As<Napi::BigInt>().Int64Value(&lossless);
	}
	if (!info[i].IsNumber())
		throw Napi::TypeError::New(info.Env(), "argument " +
					   std::to_string(i) + " must be a number");
	return info[i].As<Napi::Number>().Int64Value();
}

// A path: a string, or a Buffer for names that are not UTF-8.
std::string ArgPath(const Napi::CallbackInfo &info, size_t i)
{
	if (info[i].IsBuffer()) {
		auto b = info[i].As<Napi::Buffer<char>>();

		return std::string(b.Data(), b.Length());
	}
	return ArgString(info, i);
}

bool ArgBool(const Napi::CallbackInfo &info, size_t i)
{
	return info[i].ToBoolean().Value();
}

void Export(Napi::Env env, Napi::Object exports, const char *name, Impl impl)
{
	auto async = [impl](const Napi::CallbackInfo &info) {
		return impl(info, true);
	};
	auto sync = [impl](const Napi::CallbackInfo &info) {
		return impl(info, false);
	};

	exports.Set(name, Napi::Function::New(env, async, name));
	exports.Set(std::string(name) + "Sync",
		    Napi::Function::New(env, sync, std::string(name) + "Sync"));
}

} // namespace lkl

// Raised whenever the calls change (names, arguments, results), with
// ADDON_INTERFACE in src/lkl/binaries.ts: a stale prebuilt addon then
// fails to load with one clear line, not with a missing call halfway
// through a copy.
#define ADDON_INTERFACE 6

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports)
{
	exports.Set("interface", Napi::Number::New(env, ADDON_INTERFACE));
	lkl::InitKernel(env, exports);
	lkl::InitFs(env, exports);
	lkl::InitFd(env, exports);
	lkl::InitHost(env, exports);
	lkl::InitScan(env, exports);
	lkl::InitPut(env, exports);
	lkl::InitFsIds(env, exports);
	return exports;
}

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitAddon)
