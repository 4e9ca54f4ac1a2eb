// SPDX-License-Identifier: GPL-2.0
#ifndef LKL_ADDON_STAT_H
#define LKL_ADDON_STAT_H

#include <napi.h>

extern "C" {
#include "../kernel/kernel.h"
}

namespace lkl {

Napi::Value StatxToJs(Napi::Env env, const struct lkl_statx &st);
Napi::Value StatfsToJs(Napi::Env env, const struct lkl_statfs64 &st);

} // namespace lkl

#endif
