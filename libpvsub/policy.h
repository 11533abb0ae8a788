/* SPDX-License-Identifier: MIT */
/*
 * policy: what is subtracted (DESIGN §3).
 *
 * A policy is a named, versioned set of masked byte patterns plus the action
 * for a real gate instruction found in guest code.  Policies come from the
 * built-in profiles or from XML files validated against
 * schemas/pvsub-policy.xsd (compiled into the library).  Higher-level byte
 * tokens (`/N`, `/Nm`) are expanded here, so every consumer sees only plain
 * masked patterns.
 */
#ifndef PVSUB_POLICY_H
#define PVSUB_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "libpvsub/crypto.h"
#include "libpvsub/util.h"

#define PVSUB_PATTERN_MAX 16
#define PVSUB_PATTERN_ID_MAX 64

/*
 * One masked pattern: an occurrence is any offset o where, for every i <
 * len, (buf[o + i] & mask[i]) == value[i].  value[i] & ~mask[i] is always 0.
 * A pattern whose bytes are all wildcards is rejected when compiled.
 */
struct pvsub_pattern {
	char id[PVSUB_PATTERN_ID_MAX];
	uint8_t len;
	uint8_t value[PVSUB_PATTERN_MAX];
	uint8_t mask[PVSUB_PATTERN_MAX];
};

enum pvsub_on_instruction {
	PVSUB_ON_INSTRUCTION_REJECT = 0,
	PVSUB_ON_INSTRUCTION_TRAP = 1,
};

struct pvsub_policy;

/*
 * Compile one pattern expression (DESIGN §3 byte tokens: `HH`, `??`,
 * `HH/MM`, and a final `/N` or `/Nm`) into masked patterns, appended to
 * *@pats (realloc'ed; *@n updated).  `/Nm` expands to three patterns (ModRM
 * mod 00, 01, 10).  0 or -EINVAL with the reason in @diag.
 * @id must be 1..PVSUB_PATTERN_ID_MAX-1 characters of [A-Za-z0-9._:-].  An
 * `HH/MM` whose value has bits outside its mask, more than 16 bytes, or only
 * wildcards are errors.  On any failure *@pats and *@n are left unchanged.
 */
int pvsub_pattern_compile(const char *id, const char *expr, struct pvsub_pattern **pats, size_t *n,
			  struct pvsub_diag *diag) _must_check_ _nonnull_(1, 2, 3, 4);

/* Format @p as tokens ("0f 01 d4", "0f ae 28/f8") into @out (>= 3*16*2 chars). */
void pvsub_pattern_format(const struct pvsub_pattern *p, char *out, size_t outlen) _nonnull_(1, 2);

/*
 * Whether pattern @have (a manifest's, say) finds every occurrence of
 * @want: at some offset k with k + have->len <= want->len, each byte @have
 * requires (its mask bits) is required by @want too, with the same value.
 * Then any bytes that match @want contain a match of @have, so a scan for
 * @have misses none of them.  Equal patterns cover each other; ids are
 * ignored; a pattern of wildcards only covers nothing.
 */
bool pvsub_pattern_covers(const struct pvsub_pattern *have, const struct pvsub_pattern *want)
	_nonnull_(1, 2);

/* NULL-terminated list of built-in profile names, in display order. */
const char *const *pvsub_policy_builtin_names(void);
/* One-line description of a built-in profile, or NULL if unknown. */
const char *pvsub_policy_builtin_description(const char *name);

/* A built-in profile (`vmfunc`, `pku`, `syscall`, `default`).  Its id is
 * "builtin:NAME" and its version 1.  -ENOENT if @name is not built in. */
int pvsub_policy_new_builtin(const char *name, struct pvsub_policy **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 2);

/*
 * Parse and validate a policy document held in memory, through the
 * hardened reader (libpvsub/xml.h): no DTD (refused), no entity, no
 * XInclude, nothing read from outside these bytes, at most 1 MiB.  @name
 * is the document's name for libxml2 only; messages do not repeat it (the
 * caller names the file).  -EINVAL (malformed, invalid against the schema,
 * bad tokens), -EIO (the built-in schema does not compile) or -ENOMEM, with
 * a one-line reason in @diag ("line N: ...").
 * Any thread may call this, and the two functions below, at any time; the
 * result is immutable and may be shared by any number of threads.
 */
int pvsub_policy_new_from_memory(const char *xml, size_t len, const char *name,
				 struct pvsub_policy **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 3, 4);

/* Same, from a file (at most 1 MiB). */
int pvsub_policy_new_from_file(const char *path, struct pvsub_policy **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 2);

/* What --policy takes: a built-in name, else a file path. */
int pvsub_policy_load(const char *name_or_path, struct pvsub_policy **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 2);

/* Free; NULL is a no-op. */
void pvsub_policy_free(struct pvsub_policy *p);

const char *pvsub_policy_id(const struct pvsub_policy *p) _nonnull_(1);
unsigned long pvsub_policy_version(const struct pvsub_policy *p) _nonnull_(1);
enum pvsub_on_instruction pvsub_policy_on_instruction(const struct pvsub_policy *p) _nonnull_(1);
const char *pvsub_on_instruction_name(enum pvsub_on_instruction a);

/* The compiled patterns, in document order (each include expanded where it
 * stands; a `/Nm` token gives three consecutive patterns with one id). */
const struct pvsub_pattern *pvsub_policy_patterns(const struct pvsub_policy *p, size_t *n)
	_nonnull_(1, 2);

/*
 * The canonical form, whose SHA-256 the manifest records.  It is a text
 * document, stable across releases (see pvsub-policy(5)):
 *
 *   pvsub-policy-canonical 1
 *   id <id>
 *   version <n>
 *   on-instruction reject|trap
 *   pattern <id> <value hex> <mask hex>      (one line per compiled pattern)
 *
 * Two policies that compile to the same patterns in the same order have the
 * same canonical form, whatever their XML looked like.
 */
int pvsub_policy_canonical(const struct pvsub_policy *p, struct pvsub_buf *out)
	_must_check_ _nonnull_(1, 2);
/* SHA-256 of the canonical form, as 64 hex digits (computed once). */
const char *pvsub_policy_sha256_hex(const struct pvsub_policy *p) _nonnull_(1);

#endif
