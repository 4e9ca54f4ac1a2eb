// SPDX-License-Identifier: GPL-2.0
//
// Kernel stat structures as plain objects.  64-bit counts are BigInts;
// times are seconds and nanoseconds apart, so nothing is rounded here.
#include "stat.h"

namespace lkl {

static void SetTime(Napi::Object &o, const char *name,
		    const struct lkl_statx_timestamp &t)
{
	Napi::Array a = Napi::Array::New(o.Env(), 2);

	a.Set(0u, Napi::Number::New(o.Env(), (double)t.tv_sec));
	a.Set(1u, Napi::Number::New(o.Env(), t.tv_nsec));
	o.Set(name, a);
}

Napi::Value StatxToJs(Napi::Env env, const struct lkl_statx &st)
{
	Napi::Object o = Napi::Object::New(env);

	o.Set("mask", st.stx_mask);
	o.Set("mode", st.stx_mode);
	o.Set("nlink", st.stx_nlink);
	o.Set("uid", st.stx_uid);
	o.Set("gid", st.stx_gid);
	o.Set("blksize", st.stx_blksize);
	o.Set("ino", Napi::BigInt::New(env, (uint64_t)st.stx_ino));
	o.Set("size", Napi::BigInt::New(env, (uint64_t)st.stx_size));
	o.Set("blocks", Napi::BigInt::New(env, (uint64_t)st.stx_blocks));
	o.Set("devMajor", st.stx_dev_major);
	o.Set("devMinor", st.stx_dev_minor);
	o.Set("rdevMajor", st.stx_rdev_major);
	o.Set("rdevMinor", st.stx_rdev_minor);
	SetTime(o, "atime", st.stx_atime);
	SetTime(o, "mtime", st.stx_mtime);
	SetTime(o, "ctime", st.stx_ctime);
	SetTime(o, "btime", st.stx_btime);
	return o;
}

Napi::Value StatfsToJs(Napi::Env env, const struct lkl_statfs64 &st)
{
	Napi::Object o = Napi::Object::New(env);

	o.Set("type", Napi::Number::New(env, (double)st.f_type));
	o.Set("bsize", Napi::Number::New(env, (double)st.f_bsize));
	o.Set("blocks", Napi::BigInt::New(env, (uint64_t)st.f_blocks));
	o.Set("bfree", Napi::BigInt::New(env, (uint64_t)st.f_bfree));
	o.Set("bavail", Napi::BigInt::New(env, (uint64_t)st.f_bavail));
	o.Set("files", Napi::BigInt::New(env, (uint64_t)st.f_files));
	o.Set("ffree", Napi::BigInt::New(env, (uint64_t)st.f_ffree));
	o.Set("namelen", Napi::Number::New(env, (double)st.f_namelen));
	return o;
}

} // namespace lkl
