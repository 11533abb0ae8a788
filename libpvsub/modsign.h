/* SPDX-License-Identifier: MIT */
/*
 * modsign: sign and verify a Linux module's appended signature (CMS through
 * crypto.h), on top of modsig.h's parser of the trailer.  Trust area: this
 * is the part of module signatures that needs OpenSSL.
 */
#ifndef PVSUB_MODSIGN_H
#define PVSUB_MODSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "libpvsub/crypto.h"
#include "libpvsub/modsig.h"
#include "libpvsub/util.h"

/*
 * Sign a module as the kernel's sign-file does (CMS, no attributes, no
 * certificates, signer by issuer and serial) and append the result to @out:
 * any signature already there is replaced, never stacked.  -EBADMSG when
 * the module ends in a signature marker with a malformed trailer.
 */
int pvsub_modsig_sign(const struct pvsub_signer *s, enum pvsub_hash hash, const uint8_t *data,
		      size_t len, struct pvsub_buf *out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 5);

/* Verify a signed module against the certificates of @keyring as the kernel
 * does.  0 or a result of pvsub_cms_verify_keyring(); -ENOKEY unsigned. */
int pvsub_modsig_verify(const uint8_t *data, size_t len, const struct pvsub_trust *keyring,
			struct pvsub_diag *diag) _must_check_ _nonnull_(3);

#endif
