/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "libpvsub/modsign.h"

int pvsub_modsig_sign(const struct pvsub_signer *s, enum pvsub_hash hash, const uint8_t *data,
		      size_t len, struct pvsub_buf *out, struct pvsub_diag *diag)
{
	struct pvsub_buf sig = {0};
	size_t content_len = pvsub_modsig_strip(data, len);
	struct pvsub_modsig t;
	int r;

	/* a marker the kernel would not accept: appending would stack on it */
	if (pvsub_modsig_parse(data, content_len, PVSUB_MODSIG_KERNEL, &t, NULL) == -EBADMSG)
		return pvsub_diag_set(
			diag, EBADMSG,
			"the module ends in a malformed signature; not stacking on it");
	r = pvsub_cms_sign(s, hash, PVSUB_SIGN_NOCERTS, data, content_len, &sig, diag);
	if (r == 0)
		r = pvsub_modsig_build(data, content_len, (const uint8_t *)sig.data, sig.len, out);
	pvsub_buf_release(&sig);
	return r;
}

int pvsub_modsig_verify(const uint8_t *data, size_t len, const struct pvsub_trust *keyring,
			struct pvsub_diag *diag)
{
	struct pvsub_modsig t;
	int r;

	r = pvsub_modsig_parse(data, len, PVSUB_MODSIG_KERNEL, &t, diag);
	if (r < 0)
		return r;
	return pvsub_cms_verify_keyring(data + t.sig_offset, t.sig_len, data, t.offset, keyring,
					diag);
}
