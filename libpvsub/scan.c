/* SPDX-License-Identifier: MIT */
#include "libpvsub/scan.h"
