/* SPDX-License-Identifier: MIT */
/*
 * pvsub-loader: what main.c (verification, link, hand-off to
 * pvsub-guestrun) needs from the files generated at build time.
 */
#ifndef PVSUB_LOADER_H
#define PVSUB_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "libpvsub/guestlink.h"
#include "runtime/handoff.h"
#include "runtime/include/pvsub/guest.h"

#define PROGRAM "pvsub-loader"

/* The guest API as pvsub-guestrun provides it: names and the runtime's
 * (fixed) addresses, taken from its symbols when it was built
 * (guestrun-api.c, generated); loader_api_count entries in each table, 0
 * when the runtime was not built (no musl-gcc).  loader_api is for the
 * mprotect and none backends; loader_api_pkey links pvsub_tx, pvsub_rx and
 * pvsub_log to the pkey backend's gates. */
extern const struct pvsub_guestlink_api loader_api[];
extern const struct pvsub_guestlink_api loader_api_pkey[];
extern const size_t loader_api_count;

/* Where the runtime was installed (PVSUB_GUESTRUN in the environment
 * overrides it, for the build tree's tests). */
extern const char loader_guestrun_path[];

#endif
