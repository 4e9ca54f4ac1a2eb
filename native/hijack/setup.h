/* SPDX-License-Identifier: GPL-2.0 */
/* Applying the configuration: the interfaces before boot, the rest after. */
#ifndef LKL_HIJACK_SETUP_H
#define LKL_HIJACK_SETUP_H

#include "config.h"

/* Open each interface's backend and give it to the kernel (before boot). */
int setup_interfaces(struct config *cfg);
/* Addresses, routes, rules, neighbours, qdiscs, sysctls, mounts. */
int setup_after_boot(struct config *cfg);

#endif /* LKL_HIJACK_SETUP_H */
