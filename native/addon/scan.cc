// SPDX-License-Identifier: GPL-2.0
//
// scan(root, path, inlineMax, budget) inside a mount, and
// hostScan(path, inlineMax, budget) on the host: a directory's entries
// with their status, xattrs, link targets and small files' contents, from
// one trip through the thread pool (native/copy/scan.c).  Each entry is
// [name, statx | null, [[xattrName, value]...] | null, target | null,
// contents | null]; a null part is one the caller must fetch itself.
// releaseContents(buffer) frees a contents Buffer at once.
#include <memory>
#include <napi.h>
#include <string>
#include <vector>

extern "C" {
#include "../copy/scan.h"
#include "../copy/xattr_pack.h"
}

#include "run.h"
#include "stat.h"

namespace lkl {

struct ScanEntry {
	std::string name;
	bool have_stat;
	struct lkl_statx st;
	bool have_xattrs;
	std::string xattrs;
	bool have_link;
	std::string link;
	bool have_data;
	// The scan's own buffer, kept: it becomes the JavaScript Buffer.
	std::shared_ptr<char> data;
	size_t data_len;
};

static int collect(void *ctx, struct scan_entry *e)
{
	auto *out = static_cast<std::vector<ScanEntry> *>(ctx);
	ScanEntry s;

	s.name = e->name;
	s.have_stat = !e->stat_err;
	s.st = e->st;
	s.have_xattrs = s.have_stat && !e->xattrs_err;
	if (s.have_xattrs)
		s.xattrs.assign(e->xattrs, e->xattrs_len);
	s.have_link = s.have_stat && !e->link_err;
	if (s.have_link)
		s.link.assign(e->link, e->link_len);
	s.have_data = s.have_stat && !e->data_err;
	s.data_len = 0;
	if (s.have_data) {
		s.data = std::shared_ptr<char>(e->data, free);
		s.data_len = e->data_len;
		e->data = nullptr;
	}
	out->push_back(std::move(s));
	return 0;
}

// Hands @data to a Buffer without a copy; the Buffer frees it.
static Napi::Value Owned(Napi::Env env, const std::shared_ptr<char> &data, size_t len)
{
	auto *hold = new std::shared_ptr<char>(data);

	return Napi::Buffer<char>::New(env, data.get(), len,
				       [](Napi::Env, char *, std::shared_ptr<char> *h) { delete h; },
				       hold);
}

static Napi::Value Bytes(Napi::Env env, const std::string &s)
{
	return Napi::Buffer<char>::Copy(env, s.data(), s.size());
}

// The packed list (native/copy/xattr_pack.h) as [[name, value]...].
static Napi::Value XattrsToJs(Napi::Env env, const std::string &packed)
{
	Napi::Array a = Napi::Array::New(env);
	struct xattr_pack_item x;
	size_t off = 0;
	uint32_t i = 0;

	while (xattr_pack_next(packed.data(), packed.size(), &off, &x) > 0) {
		Napi::Array pair = Napi::Array::New(env, 2);

		pair.Set(0u, Napi::String::New(env, x.name));
		pair.Set(1u, Napi::Buffer<char>::Copy(env, static_cast<const char *>(x.value), x.len));
		a.Set(i++, pair);
	}
	return a;
}

static Napi::Value EntriesToJs(Napi::Env env, const std::vector<ScanEntry> &entries)
{
	Napi::Array a = Napi::Array::New(env, entries.size());
	uint32_t i = 0;

	for (const ScanEntry &e : entries) {
		Napi::Array item = Napi::Array::New(env, 5);

		item.Set(0u, Bytes(env, e.name));
		item.Set(1u, e.have_stat ? StatxToJs(env, e.st) : env.Null());
		item.Set(2u, e.have_xattrs ? XattrsToJs(env, e.xattrs) : env.Null());
		item.Set(3u, e.have_link ? Bytes(env, e.link) : env.Null());
		item.Set(4u, e.have_data ? Owned(env, e.data, e.data_len) : env.Null());
		a.Set(i++, item);
	}
	return a;
}

static Napi::Value Scan(const Napi::CallbackInfo &info, bool async)
{
	int root = ArgInt(info, 0);
	std::string path = ArgPath(info, 1);
	size_t inline_max = ArgInt64(info, 2);
	size_t budget = ArgInt64(info, 3);
	auto entries = std::make_shared<std::vector<ScanEntry>>();

	return RunKernel(info.Env(), async,
			 [=] {
				 return lkl_fs_scan(root, path.c_str(), inline_max,
						    budget, collect, entries.get());
			 },
			 [entries](Napi::Env env, long) { return EntriesToJs(env, *entries); });
}

static Napi::Value HostScan(const Napi::CallbackInfo &info, bool async)
{
	std::string path = ArgPath(info, 0);
	size_t inline_max = ArgInt64(info, 1);
	size_t budget = ArgInt64(info, 2);
	auto entries = std::make_shared<std::vector<ScanEntry>>();

	return Run(info.Env(), async,
		   [=] {
			   return hostfs_scan(path.c_str(), inline_max, budget,
					    collect, entries.get());
		   },
		   [entries](Napi::Env env, long) { return EntriesToJs(env, *entries); });
}

// Frees a scan's contents Buffer now, rather than when V8 next collects
// it: the copy engine is done with it once a sink has written it, and a
// copy of many small files otherwise holds tens of MiB of them, freed in
// the thread's malloc arena only after a collection (fs2tar of 67,000
// entries: 26 MiB of arena).  The Buffer and every view of it then have
// length 0, so the caller must hold the only use of it.  Anything but a
// whole, detachable Buffer (one a scan made) is left alone: false.
static Napi::Value ReleaseContents(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();

	if (info.Length() < 1 || !info[0].IsBuffer())
		throw Napi::TypeError::New(env, "argument 0 must be a Buffer");
	auto b = info[0].As<Napi::Buffer<char>>();
	Napi::ArrayBuffer ab = b.ArrayBuffer();

	if (b.ByteOffset() != 0 || b.ByteLength() != ab.ByteLength() ||
	    ab.IsDetached())
		return Napi::Boolean::New(env, false);
	// Fails, with no exception pending, for a Buffer that cannot be
	// detached: it stays for V8 to collect.
	return Napi::Boolean::New(env, napi_detach_arraybuffer(env, ab) == napi_ok);
}

void InitScan(Napi::Env env, Napi::Object exports)
{
	Export(env, exports, "scan", Scan);
	Export(env, exports, "hostScan", HostScan);
	exports.Set("releaseContents", Napi::Function::New(env, ReleaseContents, "releaseContents"));
}

} // namespace lkl
