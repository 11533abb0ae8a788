/* SPDX-License-Identifier: MIT */
#include "libpvsub/workq.h"
