// SPDX-License-Identifier: GPL-2.0
//
// Operations on open file descriptors.  read and write use the caller's
// Buffer in place: a reference keeps it alive until the work is done.
#include <memory>
#include <napi.h>

extern "C" {
#include "../kernel/fs.h"
}

#include "run.h"
#include "stat.h"

namespace lkl {

struct HeldBuffer {
	Napi::ObjectReference ref;
	char *data;
	size_t length;
};

static std::shared_ptr<HeldBuffer> ArgBuffer(const Napi::CallbackInfo &info,
					     size_t i)
{
	if (!info[i].IsTypedArray())
		throw Napi::TypeError::New(info.Env(), "buffer must be a Uint8Array");
	auto a = info[i].As<Napi::Uint8Array>();
	auto held = std::make_shared<HeldBuffer>();

	held->ref = Napi::Persistent(a.As<Napi::Object>());
	held->data = reinterpret_cast<char *>(a.Data());
	held->length = a.ByteLength();
	return held;
}

static Napi::Value Close(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0);

	return RunKernel(info.Env(), async,
			 [fd] { return lkl_sys1(LKL___NR_close, fd); }, Undefined);
}

static Napi::Value CloseUncached(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0);

	return RunKernel(info.Env(), async, [fd] { return lkl_fs_close_uncached(fd); },
			 Undefined);
}

enum class Transfer { read, write, read_once };

// read/write(fd, buffer, offset, length, position); position < 0: current.
// readOnce(fd, buffer, offset, length, position), position >= 0: a read
// that drops the pages it read from the kernel's cache (kernel/fs.c).
static Napi::Value Move(const Napi::CallbackInfo &info, bool async, Transfer how)
{
	int fd = ArgInt(info, 0);
	auto buf = ArgBuffer(info, 1);
	long long off = ArgInt64(info, 2), len = ArgInt64(info, 3);
	long long pos = ArgInt64(info, 4);
	bool write = how == Transfer::write;

	if (off < 0 || len < 0 || (size_t)(off + len) > buf->length)
		throw Napi::RangeError::New(info.Env(), "range outside the buffer");
	if (how == Transfer::read_once && pos < 0)
		throw Napi::RangeError::New(info.Env(), "readOnce needs a position");

	return RunKernel(info.Env(), async,
			 [=] {
				 char *p = buf->data + off;

			   if (how == Transfer::read_once)
				   return lkl_fs_pread_once(fd, p, len, pos);
			   if (pos < 0)
				   return lkl_sys3(write ? LKL___NR_write :
						   LKL___NR_read, fd, p, len);
			   return lkl_sys4(write ? LKL___NR_pwrite64 :
					   LKL___NR_pread64, fd, p, len, pos);
		   },
		   Number);
}

static Napi::Value Read(const Napi::CallbackInfo &info, bool async)
{
	return Move(info, async, Transfer::read);
}

static Napi::Value ReadOnce(const Napi::CallbackInfo &info, bool async)
{
	return Move(info, async, Transfer::read_once);
}

static Napi::Value Write(const Napi::CallbackInfo &info, bool async)
{
	return Move(info, async, Transfer::write);
}

static Napi::Value Fstat(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0);
	auto st = std::make_shared<struct lkl_statx>();

	return RunKernel(info.Env(), async,
			 [=] { return lkl_fs_fstatx(fd, st.get()); },
			 [st](Napi::Env env, long) { return StatxToJs(env, *st); });
}

static Napi::Value Ftruncate(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0);
	long long len = ArgInt64(info, 1);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_sys2(LKL___NR_ftruncate, fd, len); },
			 Undefined);
}

static Napi::Value Fsync(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0);
	bool data_only = ArgBool(info, 1);

	return RunKernel(info.Env(), async,
			 [=] {
				 return lkl_sys1(data_only ? LKL___NR_fdatasync :
						 LKL___NR_fsync, fd);
			 },
			 Undefined);
}

static Napi::Value Fallocate(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0), mode = ArgInt(info, 1);
	long long off = ArgInt64(info, 2), len = ArgInt64(info, 3);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_sys4(LKL___NR_fallocate, fd, mode, off, len); },
			 Undefined);
}

// lseek(fd, offset, whence) -> new offset (SEEK_DATA/SEEK_HOLE too)
static Napi::Value Lseek(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0), whence = ArgInt(info, 2);
	long long off = ArgInt64(info, 1);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_sys3(LKL___NR_lseek, fd, off, whence); },
			 Number);
}

// fchmod/fchown/futimes: a FileHandle changes the file it has open, which
// may no longer be reachable by the path it was opened with.
static Napi::Value Fchmod(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0), mode = ArgInt(info, 1);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_sys2(LKL___NR_fchmod, fd, mode); }, Undefined);
}

static Napi::Value Fchown(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0);
	unsigned int uid = (unsigned int)ArgInt64(info, 1);
	unsigned int gid = (unsigned int)ArgInt64(info, 2);

	return RunKernel(info.Env(), async,
			 [=] { return lkl_sys3(LKL___NR_fchown, fd, uid, gid); },
			 Undefined);
}

// futimes(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec)
static Napi::Value Futimes(const Napi::CallbackInfo &info, bool async)
{
	int fd = ArgInt(info, 0);
	struct lkl___kernel_timespec ts[2];

	ts[0].tv_sec = ArgInt64(info, 1);
	ts[0].tv_nsec = ArgInt64(info, 2);
	ts[1].tv_sec = ArgInt64(info, 3);
	ts[1].tv_nsec = ArgInt64(info, 4);
	return RunKernel(info.Env(), async,
			 [=] {
				 /* A NULL path makes utimensat act on fd itself. */
				 return lkl_sys4(LKL___NR_utimensat, fd, nullptr, ts, 0);
			 },
			 Undefined);
}

void InitFd(Napi::Env env, Napi::Object exports)
{
	Export(env, exports, "close", Close);
	Export(env, exports, "closeUncached", CloseUncached);
	Export(env, exports, "read", Read);
	Export(env, exports, "readOnce", ReadOnce);
	Export(env, exports, "write", Write);
	Export(env, exports, "fstat", Fstat);
	Export(env, exports, "ftruncate", Ftruncate);
	Export(env, exports, "fsync", Fsync);
	Export(env, exports, "fallocate", Fallocate);
	Export(env, exports, "lseek", Lseek);
	Export(env, exports, "fchmod", Fchmod);
	Export(env, exports, "fchown", Fchown);
	Export(env, exports, "futimes", Futimes);
}

} // namespace lkl
