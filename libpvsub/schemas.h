/* SPDX-License-Identifier: MIT */
/* schemas: the XML schemas of schemas/, compiled in (generated schemas.c). */
#ifndef PVSUB_SCHEMAS_H
#define PVSUB_SCHEMAS_H

#include <stddef.h>

extern const char pvsub_schema_policy_xsd[];
extern const size_t pvsub_schema_policy_xsd_len;
extern const char pvsub_schema_manifest_xsd[];
extern const size_t pvsub_schema_manifest_xsd_len;

#endif
