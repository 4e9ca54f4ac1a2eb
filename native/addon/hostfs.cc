// SPDX-License-Identifier: GPL-2.0
//
// The few host filesystem calls node:fs lacks, for copies between the
// host and an image: extended attributes, nanosecond times, device nodes,
// where a sparse file's data is.
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

#include "run.h"

namespace lkl {

static long HostResult(long ret)
{
	return ret < 0 ? -errno : ret;
}

static std::string ArgHostPath(const Napi::CallbackInfo &info, size_t i)
{
	if (info[i].IsBuffer()) {
		auto b = info[i].As<Napi::Buffer<char>>();

		return std::string(b.Data(), b.Length());
	}
	return ArgString(info, i);
}

// hostListxattr(path, follow) -> Buffer of NUL-terminated names
static Napi::Value HostListxattr(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgHostPath(info, 0);
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
	std::string path = ArgHostPath(info, 0), name = ArgString(info, 1);
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

// hostSetxattr(path, name, value, flags, follow)
static Napi::Value HostSetxattr(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgHostPath(info, 0), name = ArgString(info, 1);
	if (!info[2].IsBuffer())
		throw Napi::TypeError::New(info.Env(), "value must be a Buffer");
	auto b = info[2].As<Napi::Buffer<char>>();
	auto value = std::make_shared<std::vector<char>>(b.Data(), b.Data() + b.Length());
	int flags = ArgInt(info, 3);
	bool follow = ArgBool(info, 4);

	return Run(info.Env(), async,
		   [=] {
			   return HostResult(follow ?
				setxattr(path.c_str(), name.c_str(), value->data(),
					 value->size(), flags) :
				lsetxattr(path.c_str(), name.c_str(), value->data(),
					  value->size(), flags));
		   },
		   Undefined);
}

// hostUtimens(path, aSec, aNsec, mSec, mNsec, follow): exact to the ns
static Napi::Value HostUtimens(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgHostPath(info, 0);
	struct timespec ts[2];
	bool follow = ArgBool(info, 5);

	ts[0].tv_sec = ArgInt64(info, 1);
	ts[0].tv_nsec = ArgInt64(info, 2);
	ts[1].tv_sec = ArgInt64(info, 3);
	ts[1].tv_nsec = ArgInt64(info, 4);
	return Run(info.Env(), async,
		   [=] {
			   return HostResult(utimensat(AT_FDCWD, path.c_str(), ts,
				follow ? 0 : AT_SYMLINK_NOFOLLOW));
		   },
		   Undefined);
}

// hostMknod(path, mode, major, minor): devices and fifos
static Napi::Value HostMknod(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgHostPath(info, 0);
	mode_t mode = ArgInt(info, 1);
	unsigned int major = ArgInt(info, 2), minor = ArgInt(info, 3);

	return Run(info.Env(), async,
		   [=] {
			   return HostResult(mknod(path.c_str(), mode,
						   makedev(major, minor)));
		   },
		   Undefined);
}

// hostDataMap(path, size) -> [[offset, length]...] (BigInts): the data
// regions of a regular file, by SEEK_DATA/SEEK_HOLE, never following a
// symlink.  A filesystem that cannot tell reports one region.
static Napi::Value HostDataMap(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgHostPath(info, 0);
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
	Export(env, exports, "hostSetxattr", HostSetxattr);
	Export(env, exports, "hostUtimens", HostUtimens);
	Export(env, exports, "hostMknod", HostMknod);
	Export(env, exports, "hostDataMap", HostDataMap);
}

} // namespace lkl
