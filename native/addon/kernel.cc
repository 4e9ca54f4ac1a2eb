// SPDX-License-Identifier: GPL-2.0
//
// Boot, halt, disks and mounts.
#include <cstdio>
#include <mutex>
#include <napi.h>
#include <unordered_map>

extern "C" {
#include "../disk/file_disk.h"
#include "../kernel/kernel.h"
#include "../kernel/fs.h"
}

#include "run.h"

namespace lkl {

// Disks by the id handed to JavaScript; guarded since workers add them.
static std::mutex disks_lock;
static std::unordered_map<int, lkl_host_disk *> disks;
static int next_disk_id = 1;

static void print_stderr(const char *str, int len)
{
	fwrite(str, 1, len, stderr);
}

// boot(memoryMiB, bootArgs, printk): synchronous, it takes ~50 ms.
static Napi::Value Boot(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string args = ArgString(info, 1);
	struct lkl_boot_options opts = {};

	opts.memory_mib = ArgInt(info, 0);
	opts.boot_args = args.c_str();
	opts.print = ArgBool(info, 2) ? print_stderr : nullptr;
	int err = lkl_host_boot(&opts);
	if (err < 0)
		throw ErrnoError(env, err);
	return env.Undefined();
}

// halt(): the calls in flight end (with EINTR, or what the kernel had
// done), then everything is unmounted and the kernel stops.
static Napi::Value Halt(const Napi::CallbackInfo &info, bool async)
{
	return RunKernelApart(info.Env(), async,
			      [] { return (long)lkl_host_halt(); }, Undefined);
}

static Napi::Value DiskAdd(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgString(info, 0);
	bool ro = ArgBool(info, 1);
	auto disk = std::make_shared<lkl_host_disk *>(nullptr);

	return RunKernel(info.Env(), async,
			 [path, ro, disk] {
				 return (long)lkl_host_disk_add(path.c_str(),
					 ro ? FILE_DISK_READ_ONLY : 0, disk.get());
			 },
			 [disk](Napi::Env env, long) -> Napi::Value {
				 std::lock_guard<std::mutex> g(disks_lock);
				 int id = next_disk_id++;

			   disks[id] = *disk;
			   Napi::Object o = Napi::Object::New(env);
			   o.Set("id", id);
			   o.Set("name", lkl_host_disk_name(*disk));
			   return o;
		   });
}

static lkl_host_disk *FindDisk(const Napi::CallbackInfo &info, size_t i)
{
	int id = ArgInt(info, i);
	std::lock_guard<std::mutex> g(disks_lock);
	auto it = disks.find(id);

	if (it == disks.end())
		throw Napi::Error::New(info.Env(), "no such disk");
	return it->second;
}

static Napi::Value DiskRemove(const Napi::CallbackInfo &info, bool async)
{
	int id = ArgInt(info, 0);
	lkl_host_disk *disk = FindDisk(info, 0);

	return RunKernel(info.Env(), async,
			 [disk] { return (long)lkl_host_disk_remove(disk); },
			 [id](Napi::Env env, long) -> Napi::Value {
				 std::lock_guard<std::mutex> g(disks_lock);

			   disks.erase(id);
			   return env.Undefined();
		   });
}

struct MountResult {
	char path[64];
	char fstype[32];
	long root;
};

// mount(diskId, partition, fsType|null, flags, data|null)
//   -> { path, fsType, rootFd }
static Napi::Value Mount(const Napi::CallbackInfo &info, bool async)
{
	lkl_host_disk *disk = FindDisk(info, 0);
	int part = ArgInt(info, 1);
	bool has_type = info[2].IsString(), has_data = info[4].IsString();
	std::string type = has_type ? ArgString(info, 2) : "";
	unsigned long flags = ArgInt64(info, 3);
	std::string data = has_data ? ArgString(info, 4) : "";
	auto res = std::make_shared<MountResult>();

	return RunKernel(info.Env(), async,
			 [=] {
				 long err = lkl_host_mount(disk, part,
				      has_type ? type.c_str() : nullptr, flags,
				      has_data ? data.c_str() : nullptr, res->path,
				      sizeof(res->path), res->fstype,
				      sizeof(res->fstype));
				 if (err)
					 return err;
				 res->root = lkl_sys4(LKL___NR_openat, LKL_AT_FDCWD,
						      res->path, LKL_O_PATH |
						      LKL_O_DIRECTORY | LKL_O_CLOEXEC,
						      0);
				 if (res->root < 0) {
					 err = res->root;
					 lkl_host_umount(res->path);
				 }
				 return err;
			 },
			 [res](Napi::Env env, long) -> Napi::Value {
				 Napi::Object o = Napi::Object::New(env);

			   o.Set("path", res->path);
			   o.Set("fsType", res->fstype);
			   o.Set("rootFd", static_cast<double>(res->root));
			   return o;
		   });
}

// umount(path, rootFd): closes the root descriptor, syncs, unmounts.
static Napi::Value Umount(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgString(info, 0);
	int root = ArgInt(info, 1);

	return RunKernel(info.Env(), async,
			 [path, root] {
				 lkl_sys1(LKL___NR_close, root);
				 lkl_sys0(LKL___NR_sync);
				 return (long)lkl_host_umount(path.c_str());
			 },
			 Undefined);
}

void InitKernel(Napi::Env env, Napi::Object exports)
{
	exports.Set("boot", Napi::Function::New(env, Boot, "boot"));
	Export(env, exports, "halt", Halt);
	Export(env, exports, "diskAdd", DiskAdd);
	Export(env, exports, "diskRemove", DiskRemove);
	Export(env, exports, "mount", Mount);
	Export(env, exports, "umount", Umount);
}

} // namespace lkl
