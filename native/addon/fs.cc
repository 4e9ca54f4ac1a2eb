// SPDX-License-Identifier: GPL-2.0
//
// Path operations inside a mount: every path is resolved within the
// mount's root descriptor by native/kernel/fs.c.  Paths arrive as strings
// or, for names that are not UTF-8, as Buffers; names go back as Buffers.
#include <memory>
#include <napi.h>
#include <string>
#include <vector>

extern "C" {
#include "../kernel/fs.h"
#include "../kernel/kcall.h"
}

#include "run.h"
#include "stat.h"

namespace lkl {

static Napi::Value StatxOp(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	bool follow = ArgBool(info, 2);
	auto st = std::make_shared<struct lkl_statx>();

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_statx(root, path.c_str(), follow, st.get()); },
			 [st](Napi::Env env, long) { return StatxToJs(env, *st); });
}

struct DirEntry {
	std::string name;
	unsigned char type;
	unsigned long long ino;
};

static int collect(void *ctx, const char *name, unsigned char type,
		   unsigned long long ino)
{
	static_cast<std::vector<DirEntry> *>(ctx)->push_back({ name, type, ino });
	return 0;
}

// readdir(root, path) -> [nameBuffer, d_type, ino][]
static Napi::Value Readdir(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	auto entries = std::make_shared<std::vector<DirEntry>>();

	return RunKernel(info.Env(), async,
			 [=] {
				 return lkl_fs_readdir(root, path.c_str(), collect,
						       entries.get());
			 },
			 [entries](Napi::Env env, long) -> Napi::Value {
				 Napi::Array a = Napi::Array::New(env, entries->size());
				 uint32_t i = 0;

			   for (const DirEntry &e : *entries) {
				   Napi::Array item = Napi::Array::New(env, 3);

				   item.Set(0u, Napi::Buffer<char>::Copy(env, e.name.data(), e.name.size()));
				   item.Set(1u, e.type);
				   item.Set(2u, Napi::BigInt::New(env, (uint64_t)e.ino));
				   a.Set(i++, item);
			   }
			   return a;
		   });
}

static Napi::Value BufferResult(Napi::Env env,
				const std::shared_ptr<std::vector<char>> &buf,
				long len)
{
	return Napi::Buffer<char>::Copy(env, buf->data(), len);
}

static Napi::Value Readlink(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	auto buf = std::make_shared<std::vector<char>>(4096);

	return RunKernel(info.Env(), async,
			 [=] {
				 return lkl_fs_readlink(root, path.c_str(), buf->data(),
							buf->size());
			 },
			 [buf](Napi::Env env, long n) { return BufferResult(env, buf, n); });
}

static Napi::Value Realpath(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	auto buf = std::make_shared<std::vector<char>>(4096);

	return RunKernel(info.Env(), async,
			 [=] {
				 return lkl_fs_realpath(root, path.c_str(), buf->data(),
							buf->size());
			 },
			 [buf](Napi::Env env, long n) { return BufferResult(env, buf, n); });
}

static Napi::Value Open(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	int flags = ArgInt(info, 2), mode = ArgInt(info, 3);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_open(root, path.c_str(), flags, mode); },
			 Number);
}

static Napi::Value Mkdir(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	int mode = ArgInt(info, 2);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_mkdir(root, path.c_str(), mode); }, Undefined);
}

static Napi::Value Rmdir(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_rmdir(root, path.c_str()); }, Undefined);
}

static Napi::Value Unlink(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_unlink(root, path.c_str()); }, Undefined);
}

static Napi::Value Rename(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string from = ArgPath(info, 1), to = ArgPath(info, 2);
	unsigned int flags = ArgInt(info, 3);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_rename(root, from.c_str(), to.c_str(), flags); },
			 Undefined);
}

static Napi::Value Link(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string existing = ArgPath(info, 1), path = ArgPath(info, 2);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_link(root, existing.c_str(), path.c_str()); },
			 Undefined);
}

static Napi::Value Symlink(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string target = ArgPath(info, 1), path = ArgPath(info, 2);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_symlink(root, target.c_str(), path.c_str()); },
			 Undefined);
}

static Napi::Value Mknod(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	int mode = ArgInt(info, 2);
	unsigned int major = ArgInt(info, 3), minor = ArgInt(info, 4);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_mknod(root, path.c_str(), mode, major, minor); },
			 Undefined);
}

static Napi::Value Chmod(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	int mode = ArgInt(info, 2);
	bool follow = ArgBool(info, 3);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_chmod(root, path.c_str(), mode, follow); },
			 Undefined);
}

static Napi::Value Chown(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	unsigned int uid = (unsigned int)ArgInt64(info, 2);
	unsigned int gid = (unsigned int)ArgInt64(info, 3);
	bool follow = ArgBool(info, 4);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_chown(root, path.c_str(), uid, gid, follow); },
			 Undefined);
}

// utimes(root, path, atimeSec, atimeNsec, mtimeSec, mtimeNsec, follow)
static Napi::Value Utimes(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	struct lkl___kernel_timespec ts[2];
	bool follow = ArgBool(info, 6);

	ts[0].tv_sec = ArgInt64(info, 2);
	ts[0].tv_nsec = ArgInt64(info, 3);
	ts[1].tv_sec = ArgInt64(info, 4);
	ts[1].tv_nsec = ArgInt64(info, 5);
	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_utimens(root, path.c_str(), ts, follow); },
			 Undefined);
}

static Napi::Value Truncate(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	long long len = ArgInt64(info, 2);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_truncate(root, path.c_str(), len); },
			 Undefined);
}

static Napi::Value Access(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	int mode = ArgInt(info, 2);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_access(root, path.c_str(), mode); },
			 Undefined);
}

static Napi::Value Statfs(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	auto st = std::make_shared<struct lkl_statfs64>();

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_statfs(root, path.c_str(), st.get()); },
			 [st](Napi::Env env, long) { return StatfsToJs(env, *st); });
}

// trim(root, minLength) -> bytes: FITRIM over the whole filesystem, which
// discards its free blocks; the disk turns them into holes in the image.
// A syncfs first: blocks freed in a journal transaction not yet committed
// are not free to FITRIM.
static Napi::Value Trim(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	unsigned long long min_len = ArgInt64(info, 1);
	auto range = std::make_shared<struct lkl_fstrim_range>();

	return RunKernel(info.Env(), async,
			 [=] {
				 // ioctl() refuses the root's O_PATH descriptor.
				 long fd = k_openat(root, ".", LKL_O_RDONLY |
						    LKL_O_DIRECTORY |
						    LKL_O_CLOEXEC, 0);
				 long r;

				 if (fd < 0)
					 return fd;
				 range->start = 0;
				 range->len = ~0ULL;
				 range->minlen = min_len;
				 r = lkl_sys1(LKL___NR_syncfs, fd);
				 if (!r)
					 r = k_ioctl(fd, LKL_FITRIM, range.get());
				 k_close(fd);
				 return r;
			 },
			 [range](Napi::Env env, long) -> Napi::Value {
				 return Napi::Number::New(env, (double)range->len);
			 });
}

// getxattr(root, path, name, follow) -> Buffer
static Napi::Value Getxattr(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1), name = ArgString(info, 2);
	bool follow = ArgBool(info, 3);
	auto buf = std::make_shared<std::vector<char>>();

	return RunKernel(info.Env(), async,
			 [=] {
				 /* The value may grow between the two calls: retry. */
				 for (;;) {
					 long n = lkl_fs_getxattr(root, path.c_str(),
								  name.c_str(), nullptr,
								  0, follow);
					 if (n < 0)
						 return n;
					 buf->resize(n ? n : 1);
					 n = lkl_fs_getxattr(root, path.c_str(),
							     name.c_str(), buf->data(),
							     n, follow);
					 if (n != -LKL_ERANGE)
						 return n;
				 }
			 },
			 [buf](Napi::Env env, long n) { return BufferResult(env, buf, n); });
}

// listxattr(root, path, follow) -> Buffer of NUL-terminated names
static Napi::Value Listxattr(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	bool follow = ArgBool(info, 2);
	auto buf = std::make_shared<std::vector<char>>();

	return RunKernel(info.Env(), async,
			 [=] {
				 for (;;) {
					 long n = lkl_fs_listxattr(root, path.c_str(),
								   nullptr, 0, follow);
					 if (n < 0)
						 return n;
					 buf->resize(n ? n : 1);
					 n = lkl_fs_listxattr(root, path.c_str(),
							      buf->data(), n, follow);
					 if (n != -LKL_ERANGE)
						 return n;
				 }
			 },
			 [buf](Napi::Env env, long n) { return BufferResult(env, buf, n); });
}

// setxattr(root, path, name, value, flags, follow)
static Napi::Value Setxattr(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1), name = ArgString(info, 2);
	if (!info[3].IsBuffer())
		throw Napi::TypeError::New(info.Env(), "value must be a Buffer");
	auto b = info[3].As<Napi::Buffer<char>>();
	auto value = std::make_shared<std::vector<char>>(b.Data(), b.Data() + b.Length());
	int flags = ArgInt(info, 4);
	bool follow = ArgBool(info, 5);

	return RunKernel(info.Env(), async,
			 [=] {
				 return lkl_fs_setxattr(root, path.c_str(), name.c_str(),
							value->data(), value->size(),
							flags, follow);
			 },
			 Undefined);
}

static Napi::Value Removexattr(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1), name = ArgString(info, 2);
	bool follow = ArgBool(info, 3);

	return RunKernel(info.Env(), async,
			 [=] {
				 return lkl_fs_removexattr(root, path.c_str(),
							   name.c_str(), follow);
			 },
			 Undefined);
}

void InitFs(Napi::Env env, Napi::Object exports)
{
	Export(env, exports, "statx", StatxOp);
	Export(env, exports, "readdir", Readdir);
	Export(env, exports, "readlink", Readlink);
	Export(env, exports, "realpath", Realpath);
	Export(env, exports, "open", Open);
	Export(env, exports, "mkdir", Mkdir);
	Export(env, exports, "rmdir", Rmdir);
	Export(env, exports, "unlink", Unlink);
	Export(env, exports, "rename", Rename);
	Export(env, exports, "link", Link);
	Export(env, exports, "symlink", Symlink);
	Export(env, exports, "mknod", Mknod);
	Export(env, exports, "chmod", Chmod);
	Export(env, exports, "chown", Chown);
	Export(env, exports, "utimes", Utimes);
	Export(env, exports, "truncate", Truncate);
	Export(env, exports, "access", Access);
	Export(env, exports, "statfs", Statfs);
	Export(env, exports, "trim", Trim);
	Export(env, exports, "getxattr", Getxattr);
	Export(env, exports, "listxattr", Listxattr);
	Export(env, exports, "setxattr", Setxattr);
	Export(env, exports, "removexattr", Removexattr);
}

} // namespace lkl
