/* SPDX-License-Identifier: MIT */
/* STUB: to be implemented. */
#include <errno.h>

#include "libpvsub/policy.h"
