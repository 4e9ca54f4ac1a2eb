// SPDX-License-Identifier: GPL-2.0
//
// The host's own filesystem, for copies between it and an image.
// Reading (cptofs's source): extended attributes and where a sparse
// file's data is, which node:fs lacks.  Writing (cpfromfs): a
// destination (native/hostfs/dest.h), a handle through which every node
// is made relative to directory descriptors, never by a path checked
// first:
//   hostDestOpen(base) -> handle          hostDestCloseSync(handle)
//   hostDestMkdir(handle, rel)            hostDestCreate(handle, rel) -> fd
//   hostDestSymlink(handle, rel, target)  hostDestLink(handle, rel, existing)
//   hostDestMknod(handle, rel, mode, major, minor)
// (metadata and whole small files: put.cc).
// Errors carry the host's errno, shaped like the kernel ones.
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <napi.h>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utility>
#include <vector>

extern "C" {
#include "../hostfs/dest.h"
}

#include "hostfs.h"
#include "run.h"

namespace lkl {

static long HostResult(long ret)
{
	return ret < 0 ? -errno : ret;
}

// hostListxattr(path, follow) -> Buffer of NUL-terminated names
static Napi::Value HostListxattr(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgPath(info, 0);
	bool follow = ArgBool(info, 1);
	auto buf = std::make_shared<std::vector<char>>();

	return Run(info.Env(), async,
		   [=] {
			   for (;;) {
				   long n = HostResult(follow ?
					listxattr(path.c_str(), nullptr, 0) :
					llistxattr(path.c_str(), nullptr, 0));
				   if (n <= 0)
					   return n == -ENOTSUP ? 0L : n;
				   buf->resize(n);
				   n = HostResult(follow ?
					listxattr(path.c_str(), buf->data(), n) :
					llistxattr(path.c_str(), buf->data(), n));
				   if (n != -ERANGE)
					   return n;
			   }
		   },
		   [buf](Napi::Env env, long n) -> Napi::Value {
			   return Napi::Buffer<char>::Copy(env, buf->data(), n);
		   });
}

// hostGetxattr(path, name, follow) -> Buffer
static Napi::Value HostGetxattr(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgPath(info, 0), name = ArgString(info, 1);
	bool follow = ArgBool(info, 2);
	auto buf = std::make_shared<std::vector<char>>();

	return Run(info.Env(), async,
		   [=] {
			   for (;;) {
				   long n = HostResult(follow ?
					getxattr(path.c_str(), name.c_str(), nullptr, 0) :
					lgetxattr(path.c_str(), name.c_str(), nullptr, 0));
				   if (n <= 0)
					   return n;
				   buf->resize(n);
				   n = HostResult(follow ?
					getxattr(path.c_str(), name.c_str(), buf->data(), n) :
					lgetxattr(path.c_str(), name.c_str(), buf->data(), n));
				   if (n != -ERANGE)
					   return n;
			   }
		   },
		   [buf](Napi::Env env, long n) -> Napi::Value {
			   return Napi::Buffer<char>::Copy(env, buf->data(), n);
		   });
}

// A destination's handle: an External holding the destination until
// hostDestClose() or the collector lets go of it, whichever comes first;
// calls in flight hold it too.
struct HostDestHolder {
	std::shared_ptr<struct hostfs_dest> dest;
};

static const napi_type_tag kHostDestTag = { 0x6c6b6c686f737466ULL, 0x7364657374000001ULL };

std::shared_ptr<struct hostfs_dest> ArgHostDest(const Napi::CallbackInfo &info, size_t i)
{
	if (!info[i].IsExternal() ||
	    !info[i].As<Napi::External<HostDestHolder>>().CheckTypeTag(&kHostDestTag))
		throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) +
					   " must be a destination handle");
	auto *holder = info[i].As<Napi::External<HostDestHolder>>().Data();
	if (!holder->dest)
		throw ErrnoError(info.Env(), -EBADF);
	return holder->dest;
}

// A relative path for the C side, which reads it up to its NUL.
std::string ArgRel(const Napi::CallbackInfo &info, size_t i)
{
	std::string rel = ArgPath(info, i);

	if (rel.find('\0') != std::string::npos)
		throw ErrnoError(info.Env(), -EINVAL);
	return rel;
}

// hostDestOpen(base) -> handle
static Napi::Value HostDestOpen(const Napi::CallbackInfo &info, bool async)
{
	std::string base = ArgRel(info, 0);
	auto out = std::make_shared<struct hostfs_dest *>(nullptr);

	return Run(info.Env(), async,
		   [=] { return hostfs_dest_open(base.c_str(), out.get()); },
		   [out](Napi::Env env, long) -> Napi::Value {
			   auto *holder = new HostDestHolder{
				   std::shared_ptr<struct hostfs_dest>(*out, hostfs_dest_close)
			   };
			   auto ext = Napi::External<HostDestHolder>::New(env, holder,
				   [](Napi::Env, HostDestHolder *h) { delete h; });

			   ext.TypeTag(&kHostDestTag);
			   return ext;
		   });
}

// hostDestCloseSync(handle): its descriptors close once no call uses
// them (only a Sync form: it never waits).
static Napi::Value HostDestClose(const Napi::CallbackInfo &info)
{
	if (!info[0].IsExternal() ||
	    !info[0].As<Napi::External<HostDestHolder>>().CheckTypeTag(&kHostDestTag))
		throw Napi::TypeError::New(info.Env(), "argument 0 must be a destination handle");
	info[0].As<Napi::External<HostDestHolder>>().Data()->dest.reset();
	return info.Env().Undefined();
}

static Napi::Value HostDestMkdir(const Napi::CallbackInfo &info, bool async)
{
	auto dest = ArgHostDest(info, 0);
	std::string rel = ArgRel(info, 1);

	return Run(info.Env(), async,
		   [=] { return hostfs_dest_mkdir(dest.get(), rel.c_str()); },
		   Undefined);
}

// hostDestCreate(handle, rel) -> a descriptor open for writing
static Napi::Value HostDestCreate(const Napi::CallbackInfo &info, bool async)
{
	auto dest = ArgHostDest(info, 0);
	std::string rel = ArgRel(info, 1);

	return Run(info.Env(), async,
		   [=] { return hostfs_dest_create(dest.get(), rel.c_str()); },
		   Number);
}

static Napi::Value HostDestSymlink(const Napi::CallbackInfo &info, bool async)
{
	auto dest = ArgHostDest(info, 0);
	std::string rel = ArgRel(info, 1), target = ArgRel(info, 2);

	return Run(info.Env(), async,
		   [=] {
			   return hostfs_dest_symlink(dest.get(), rel.c_str(),
						      target.c_str());
		   },
		   Undefined);
}

static Napi::Value HostDestLink(const Napi::CallbackInfo &info, bool async)
{
	auto dest = ArgHostDest(info, 0);
	std::string rel = ArgRel(info, 1), existing = ArgRel(info, 2);

	return Run(info.Env(), async,
		   [=] {
			   return hostfs_dest_link(dest.get(), rel.c_str(),
						   existing.c_str());
		   },
		   Undefined);
}

// hostDestMknod(handle, rel, mode, major, minor): devices, fifos, sockets
static Napi::Value HostDestMknod(const Napi::CallbackInfo &info, bool async)
{
	auto dest = ArgHostDest(info, 0);
	std::string rel = ArgRel(info, 1);
	mode_t mode = ArgInt(info, 2);
	unsigned int major = ArgInt(info, 3), minor = ArgInt(info, 4);

	return Run(info.Env(), async,
		   [=] {
			   return hostfs_dest_mknod(dest.get(), rel.c_str(), mode,
						    makedev(major, minor));
		   },
		   Undefined);
}

// hostDataMap(path, size) -> [[offset, length]...] (BigInts): the data
// regions of a regular file, by SEEK_DATA/SEEK_HOLE, never following a
// symlink.  A filesystem that cannot tell reports one region.
static Napi::Value HostDataMap(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgPath(info, 0);
	long long size = ArgInt64(info, 1);
	auto map = std::make_shared<std::vector<std::pair<long long, long long>>>();

	return Run(info.Env(), async,
		   [=] {
			   int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			   long long off = 0, data, hole;
			   long ret = 0;

			   if (fd < 0)
				   return -(long)errno;
			   while (off < size) {
				   data = lseek(fd, off, SEEK_DATA);
				   if (data < 0) {
					   /* ENXIO: only a hole is left */
					   ret = errno == ENXIO ? 0 : -errno;
					   break;
				   }
				   hole = lseek(fd, data, SEEK_HOLE);
				   if (hole < 0) {
					   ret = -errno;
					   break;
				   }
				   map->push_back({ data, hole - data });
				   off = hole;
			   }
			   close(fd);
			   return ret;
		   },
		   [map](Napi::Env env, long) -> Napi::Value {
			   Napi::Array a = Napi::Array::New(env, map->size());
			   uint32_t i = 0;

			   for (const auto &r : *map) {
				   Napi::Array pair = Napi::Array::New(env, 2);

				   pair.Set(0u, Napi::BigInt::New(env, (int64_t)r.first));
				   pair.Set(1u, Napi::BigInt::New(env, (int64_t)r.second));
				   a.Set(i++, pair);
			   }
			   return a;
		   });
}

void InitHost(Napi::Env env, Napi::Object exports)
{
	Export(env, exports, "hostListxattr", HostListxattr);
	Export(env, exports, "hostGetxattr", HostGetxattr);
	Export(env, exports, "hostDataMap", HostDataMap);
	Export(env, exports, "hostDestOpen", HostDestOpen);
	exports.Set("hostDestCloseSync", Napi::Function::New(env, HostDestClose,
							     "hostDestCloseSync"));
	Export(env, exports, "hostDestMkdir", HostDestMkdir);
	Export(env, exports, "hostDestCreate", HostDestCreate);
	Export(env, exports, "hostDestSymlink", HostDestSymlink);
	Export(env, exports, "hostDestLink", HostDestLink);
	Export(env, exports, "hostDestMknod", HostDestMknod);
}

} // namespace lkl
