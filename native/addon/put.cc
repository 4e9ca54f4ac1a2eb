// SPDX-License-Identifier: GPL-2.0
//
// Whole nodes in one trip through the thread pool (native/kernel/put.c):
//   putNodes(root, [[kind, path, data, meta]...])
// and on the host, in a destination (native/hostfs/dest.h, put.c), for
// cpfromfs:
//   hostPutFiles(dest, [[relativePath, contents, meta]...], lenient)
//   hostDestSetMeta(dest, relativePath, type, meta, lenient)
//   hostFdSetMeta(fd, meta, lenient)   (a file from hostDestCreate)
//     -> { chown: 0 | 1, xattrs: count not kept }
// where type is the S_IFMT bits the node must have, and meta is { uid,
// gid, mode (-1 to leave it), atime: [s, ns], mtime: [s, ns],
// xattrs: [[name, Buffer]...] }.
#include <cerrno>
#include <memory>
#include <napi.h>
#include <string>
#include <vector>

extern "C" {
#include "../hostfs/dest.h"
#include "../hostfs/put.h"
#include "../kernel/put.h"
#include "../copy/xattr_pack.h"
}

#include "hostfs.h"
#include "run.h"

namespace lkl {

// putNodes' kinds of node.
enum PutKind {
	PUT_FILE = 0,
	PUT_SYMLINK = 1,
	PUT_DIR = 2,
	PUT_META = 3,
	PUT_META_FOLLOW = 4,
};

// The meta object, with its xattrs packed (xattr_pack.h); the
// strings outlive the call because the shared_ptr holds them.
struct PutMeta {
	struct lkl_put_meta m;
	std::string xattrs;
};

static void ArgTime(Napi::Env env, Napi::Value v, struct lkl___kernel_timespec *ts)
{
	if (!v.IsArray() || v.As<Napi::Array>().Length() != 2)
		throw Napi::TypeError::New(env, "times must be [sec, nsec]");
	Napi::Array a = v.As<Napi::Array>();
	ts->tv_sec = a.Get(0u).As<Napi::Number>().Int64Value();
	ts->tv_nsec = a.Get(1u).As<Napi::Number>().Int64Value();
}

static std::shared_ptr<PutMeta> MetaOf(Napi::Env env, Napi::Value v, const std::string &what)
{
	if (!v.IsObject())
		throw Napi::TypeError::New(env, what + " must be an object");
	Napi::Object o = v.As<Napi::Object>();
	auto pm = std::make_shared<PutMeta>();

	pm->m.uid = o.Get("uid").As<Napi::Number>().Uint32Value();
	pm->m.gid = o.Get("gid").As<Napi::Number>().Uint32Value();
	pm->m.mode = o.Get("mode").As<Napi::Number>().Int32Value();
	ArgTime(env, o.Get("atime"), &pm->m.times[0]);
	ArgTime(env, o.Get("mtime"), &pm->m.times[1]);
	Napi::Array xattrs = o.Get("xattrs").As<Napi::Array>();
	for (uint32_t k = 0; k < xattrs.Length(); k++) {
		Napi::Array pair = xattrs.Get(k).As<Napi::Array>();
		std::string name = pair.Get(0u).As<Napi::String>().Utf8Value();
		auto value = pair.Get(1u).As<Napi::Buffer<char>>();
		uint32_t n = value.Length();
		unsigned char le[4];

		xattr_pack_len(le, n);

		pm->xattrs.append(name);
		pm->xattrs.push_back('\0');
		pm->xattrs.append(reinterpret_cast<char *>(le), 4);
		pm->xattrs.append(value.Data(), n);
	}
	// Nothing appends to the string after this: its buffer stays put.
	pm->m.xattrs = pm->xattrs.data();
	pm->m.xattrs_len = pm->xattrs.size();
	return pm;
}

static std::shared_ptr<PutMeta> ArgMeta(const Napi::CallbackInfo &info, size_t i)
{
	return MetaOf(info.Env(), info[i], "argument " + std::to_string(i));
}

// A file's contents, copied: the Buffer may change while the call runs.
static std::string ContentsOf(Napi::Env env, Napi::Value v, const std::string &what)
{
	if (!v.IsBuffer())
		throw Napi::TypeError::New(env, what + " must be a Buffer");
	auto b = v.As<Napi::Buffer<char>>();

	return std::string(b.Data(), b.Length());
}

static std::shared_ptr<std::string> ArgContents(const Napi::CallbackInfo &info, size_t i)
{
	return std::make_shared<std::string>(
		ContentsOf(info.Env(), info[i], "argument " + std::to_string(i)));
}

// A batch's items, each copied: the caller may change them while the
// call runs.
struct PutItem {
	int kind = 0;			// putNodes' kinds; hostPutFiles: files
	std::string path;
	std::string contents;		// a file's contents, a symlink's target
	std::shared_ptr<PutMeta> meta;
};

struct PutOutcome {
	uint32_t done = 0;
	long err = 0;
};

static std::string PathOf(Napi::Env env, Napi::Value v, const std::string &what)
{
	std::string path;

	if (v.IsBuffer()) {
		auto b = v.As<Napi::Buffer<char>>();
		path.assign(b.Data(), b.Length());
	} else if (v.IsString()) {
		path = v.As<Napi::String>().Utf8Value();
	} else {
		throw Napi::TypeError::New(env, what + "'s path must be a Buffer or a string");
	}
	// A NUL would cut the path short in C: another file.
	if (path.find('\0') != std::string::npos)
		throw Napi::TypeError::New(env, what + "'s path holds a NUL byte");
	return path;
}

// [[path, contents, meta]...] (hostPutFiles), or with @kinds
// [[kind, path, data, meta]...] (putNodes).
static std::shared_ptr<std::vector<PutItem>> ArgPutItems(const Napi::CallbackInfo &info, size_t i,
							bool kinds = false)
{
	Napi::Env env = info.Env();
	const uint32_t first = kinds ? 1 : 0;

	if (!info[i].IsArray())
		throw Napi::TypeError::New(env, "argument " + std::to_string(i) + " must be an array");
	Napi::Array list = info[i].As<Napi::Array>();
	auto items = std::make_shared<std::vector<PutItem>>(list.Length());

	for (uint32_t k = 0; k < list.Length(); k++) {
		Napi::Value v = list.Get(k);
		std::string what = "item " + std::to_string(k);

		if (!v.IsArray() || v.As<Napi::Array>().Length() != 3 + first)
			throw Napi::TypeError::New(env, what + (kinds ? " must be [kind, path, data, meta]" :
								 " must be [path, contents, meta]"));
		Napi::Array a = v.As<Napi::Array>();
		PutItem &item = (*items)[k];

		if (kinds) {
			if (!a.Get(0u).IsNumber())
				throw Napi::TypeError::New(env, what + "'s kind must be a number");
			item.kind = a.Get(0u).As<Napi::Number>().Int32Value();
			if (item.kind < PUT_FILE || item.kind > PUT_META_FOLLOW)
				throw Napi::TypeError::New(env, what + "'s kind is not one putNodes knows");
		}
		item.path = PathOf(env, a.Get(first), what);
		item.contents = ContentsOf(env, a.Get(first + 1), what + "'s data");
		item.meta = MetaOf(env, a.Get(first + 2), what + "'s meta");
		if (item.kind == PUT_SYMLINK && item.contents.find('\0') != std::string::npos)
			throw Napi::TypeError::New(env, what + "'s target holds a NUL byte");
	}
	return items;
}

// One node of putNodes.
static long PutNode(int root, const PutItem &item)
{
	const char *path = item.path.c_str();
	const struct lkl_put_meta *m = &item.meta->m;

	switch (item.kind) {
	case PUT_FILE:
		return lkl_fs_put_file(root, path, item.contents.data(), item.contents.size(), m);
	case PUT_SYMLINK:
		return lkl_fs_put_symlink(root, path, item.contents.c_str(), m);
	case PUT_DIR:
		return lkl_fs_put_dir(root, path, m->mode);
	case PUT_META:
		return lkl_fs_set_meta(root, path, 0, m);
	case PUT_META_FOLLOW:
		return lkl_fs_set_meta(root, path, 1, m);
	default:
		return -LKL_EINVAL;
	}
}

// putNodes(root, [[kind, path, data, meta]...]): each node made in turn,
// in one call, up to the first failure -> { done, errno }: how many were
// made whole, and the failure's (negative) errno, or 0.  The kinds
// (PUT_* in src/lkl/copy-calls.ts too): a file of @data; a symlink to
// @data; a directory of meta.mode; the meta of a node already there, not
// following it or following it.  A batch costs one trip to the kernel's
// thread rather than one or more per node.
static Napi::Value PutNodes(const Napi::CallbackInfo &info, bool async)
{
	Napi::Env env = info.Env();
	int root = ArgInt(info, 0);
	auto items = ArgPutItems(info, 1, true);
	auto out = std::make_shared<PutOutcome>();

	return RunKernel(env, async,
			 [=] {
				 for (const PutItem &item : *items) {
					 long ret = PutNode(root, item);

					 if (ret) {
						 out->err = ret;
						 break;
					 }
					 out->done++;
				 }
				 return 0L;
			 },
			 [out](Napi::Env env, long) -> Napi::Value {
				 Napi::Object o = Napi::Object::New(env);

				 o.Set("done", out->done);
				 o.Set("errno", static_cast<double>(out->err));
				 return o;
			 });
}

// What was not kept, as { chown, xattrs }.
static Done LostDone(std::shared_ptr<struct hostfs_meta_result> res)
{
	return [res](Napi::Env env, long) -> Napi::Value {
		Napi::Object o = Napi::Object::New(env);

		o.Set("chown", res->chown_failed);
		o.Set("xattrs", res->xattrs_failed);
		return o;
	};
}

// hostPutFiles(dest, [[relativePath, contents, meta]...], lenient): as
// putFiles, on the host: hostfs_put_file() for each in turn, up to the first
// failure -> { done, errno, chown, xattrs }, the last two summed over
// the files made whole.
static Napi::Value HostPutFiles(const Napi::CallbackInfo &info, bool async)
{
	Napi::Env env = info.Env();
	auto dest = ArgHostDest(info, 0);
	auto items = ArgPutItems(info, 1);
	bool lenient = ArgBool(info, 2);
	auto out = std::make_shared<PutOutcome>();
	auto lost = std::make_shared<struct hostfs_meta_result>();

	return Run(env, async,
		   [=] {
			   for (const PutItem &item : *items) {
				   struct hostfs_meta_result res = {};
				   long ret = hostfs_put_file(dest.get(), item.path.c_str(),
							      item.contents.data(),
							      item.contents.size(),
							      &item.meta->m, lenient, &res);
				   if (ret) {
					   out->err = ret;
					   break;
				   }
				   lost->chown_failed += res.chown_failed;
				   lost->xattrs_failed += res.xattrs_failed;
				   out->done++;
			   }
			   return 0L;
		   },
		   [out, lost](Napi::Env env, long) -> Napi::Value {
			   Napi::Object o = Napi::Object::New(env);

			   o.Set("done", out->done);
			   o.Set("errno", static_cast<double>(out->err));
			   o.Set("chown", lost->chown_failed);
			   o.Set("xattrs", lost->xattrs_failed);
			   return o;
		   });
}

static Napi::Value HostDestSetMeta(const Napi::CallbackInfo &info, bool async)
{
	auto dest = ArgHostDest(info, 0);
	std::string rel = ArgRel(info, 1);
	mode_t type = ArgInt(info, 2);
	auto pm = ArgMeta(info, 3);
	bool lenient = ArgBool(info, 4);
	auto res = std::make_shared<struct hostfs_meta_result>();

	return Run(info.Env(), async,
		   [=] {
			   return hostfs_dest_set_meta(dest.get(), rel.c_str(), type,
						       &pm->m, lenient, res.get());
		   },
		   LostDone(res));
}

static Napi::Value HostFdSetMeta(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0);
	auto pm = ArgMeta(info, 1);
	bool lenient = ArgBool(info, 2);
	auto res = std::make_shared<struct hostfs_meta_result>();

	return Run(info.Env(), async,
		   [=] {
			   return hostfs_fd_set_meta(fd, &pm->m, lenient, res.get());
		   },
		   LostDone(res));
}

void InitPut(Napi::Env env, Napi::Object exports)
{
	Export(env, exports, "hostPutFiles", HostPutFiles);
	Export(env, exports, "hostDestSetMeta", HostDestSetMeta);
	Export(env, exports, "hostFdSetMeta", HostFdSetMeta);
	Export(env, exports, "putNodes", PutNodes);
}

} // namespace lkl
