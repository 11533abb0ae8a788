/* SPDX-License-Identifier: MIT */
/*
 * elfgen: build test objects from source at test time with the system
 * compiler ($CC, default cc), so fixtures are never opaque binaries.
 */
#ifndef PVSUB_TESTS_ELFGEN_H
#define PVSUB_TESTS_ELFGEN_H

#include <stddef.h>
#include <stdint.h>

/* Assemble GNU-as source @src (AT&T syntax unless it says otherwise) into
 * an ET_REL object; *@data is malloc'ed.  Extra compiler flags in @flags
 * (may be NULL).  0 or -1 (the compiler's message goes to stderr). */
int elfgen_assemble(const char *src, const char *flags, uint8_t **data, size_t *len);

/* Compile C source @src the same way (e.g. with "-shared -fPIC" to link a
 * shared object: then the output is ET_DYN). */
int elfgen_compile_c(const char *src, const char *flags, uint8_t **data, size_t *len);

/* Assemble @src and link it alone into a static ET_EXEC (no libc, no
 * start files, no PIE), as a kernel is linked; @flags are added (e.g.
 * "-Wl,-s" for a stripped file). */
int elfgen_link_exec(const char *src, const char *flags, uint8_t **data, size_t *len);

#endif
