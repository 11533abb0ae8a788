/* SPDX-License-Identifier: MIT */
#include "libpvsub/image.h"
