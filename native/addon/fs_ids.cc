// SPDX-License-Identifier: GPL-2.0
//
// fsIds(root) -> { label, uuid }: a mounted filesystem's label and UUID
// as the kernel itself gives them (FS_IOC_GETFSLABEL, FS_IOC_GETFSUUID),
// each a Buffer, or null where this filesystem does not answer that call
// (ENOTTY, or EINVAL for a label a filesystem keeps elsewhere).
#include <cstring>
#include <memory>
#include <napi.h>

extern "C" {
#include "../kernel/kcall.h"
}

#include "run.h"

namespace lkl {

struct FsIds {
	char label[LKL_FSLABEL_MAX];
	bool has_label;
	struct lkl_fsuuid2 uuid;
	bool has_uuid;
};

static bool unanswered(long err)
{
	return err == -LKL_ENOTTY || err == -LKL_EINVAL || err == -LKL_EOPNOTSUPP;
}

static long ReadIds(int root, FsIds *ids)
{
	// ioctl() refuses the root's O_PATH descriptor.
	long fd = k_openat(root, ".", LKL_O_RDONLY | LKL_O_DIRECTORY |
			   LKL_O_CLOEXEC, 0);
	long err, closed;

	if (fd < 0)
		return fd;
	err = k_ioctl(fd, LKL_FS_IOC_GETFSLABEL, ids->label);
	ids->has_label = !err;
	if (err && !unanswered(err))
		goto out;
	err = k_ioctl(fd, LKL_FS_IOC_GETFSUUID, &ids->uuid);
	ids->has_uuid = !err && ids->uuid.len &&
			ids->uuid.len <= sizeof(ids->uuid.uuid);
	if (err && unanswered(err))
		err = 0;
out:
	closed = k_close(fd);
	return err ? err : closed;
}

static Napi::Value FsIdsOp(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	auto ids = std::make_shared<FsIds>();

	return RunKernel(info.Env(), async,
			 [=] { return ReadIds(root, ids.get()); },
			 [ids](Napi::Env env, long) -> Napi::Value {
				 Napi::Object o = Napi::Object::New(env);
				 size_t n = strnlen(ids->label, sizeof(ids->label));

				 o.Set("label", ids->has_label ?
				       Napi::Buffer<char>::Copy(env, ids->label, n).As<Napi::Value>() :
				       env.Null());
				 o.Set("uuid", ids->has_uuid ?
				       Napi::Buffer<unsigned char>::Copy(env, ids->uuid.uuid,
									 ids->uuid.len).As<Napi::Value>() :
				       env.Null());
				 return o;
			 });
}

void InitFsIds(Napi::Env env, Napi::Object exports)
{
	Export(env, exports, "fsIds", FsIdsOp);
}

} // namespace lkl
