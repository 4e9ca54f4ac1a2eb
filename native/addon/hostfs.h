// SPDX-License-Identifier: GPL-2.0
//
// Arguments of the hostfs calls, shared by hostfs.cc and put.cc.
#ifndef LKL_ADDON_HOSTFS_H
#define LKL_ADDON_HOSTFS_H

#include <memory>
#include <napi.h>
#include <string>

extern "C" {
#include "../hostfs/dest.h"
}

namespace lkl {

// A destination's handle, as hostDestOpen() made it.
std::shared_ptr<struct hostfs_dest> ArgHostDest(const Napi::CallbackInfo &info, size_t i);

// A path relative to a destination: no NUL, which would cut it short in C.
std::string ArgRel(const Napi::CallbackInfo &info, size_t i);

} // namespace lkl

#endif
