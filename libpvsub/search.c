/* SPDX-License-Identifier: MIT */
#include "libpvsub/search.h"
