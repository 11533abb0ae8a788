/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "libpvsub/modsig.h"

#define TRAILER_LEN (PVSUB_MODSIG_INFO_LEN + PVSUB_MODSIG_MAGIC_LEN)

static bool has_marker(const uint8_t *data, size_t len)
{
	return data && len >= PVSUB_MODSIG_MAGIC_LEN &&
	       memcmp(data + len - PVSUB_MODSIG_MAGIC_LEN, PVSUB_MODSIG_MAGIC,
		      PVSUB_MODSIG_MAGIC_LEN) == 0;
}

int pvsub_modsig_parse(const uint8_t *data, size_t len, struct pvsub_modsig_trailer *out,
		       struct pvsub_diag *diag)
{
	const uint8_t *info;
	uint32_t sig_len;

	memset(out, 0, sizeof(*out));
	if (!has_marker(data, len))
		return pvsub_diag_set(diag, ENOKEY, "no module signature");
	if (len < TRAILER_LEN)
		return pvsub_diag_set(diag, EBADMSG, "bad signature: truncated trailer");
	info = data + len - TRAILER_LEN;
	out->algo = info[0];
	out->hash = info[1];
	out->id_type = info[2];
	out->signer_len = info[3];
	out->key_id_len = info[4];
	memcpy(out->pad, info + 5, 3);
	sig_len = (uint32_t)info[8] << 24 | (uint32_t)info[9] << 16 | (uint32_t)info[10] << 8 |
		  info[11];
	/* the kernel's mod_check_sig() refuses the same */
	if (out->id_type != PVSUB_MODSIG_ID_PKCS7)
		return pvsub_diag_set(diag, EBADMSG, "bad signature: id_type %u is not PKCS#7",
				      out->id_type);
	if (out->algo || out->hash || out->signer_len || out->key_id_len || out->pad[0] ||
	    out->pad[1] || out->pad[2])
		return pvsub_diag_set(diag, EBADMSG,
				      "bad signature: trailer fields that must be zero are not");
	if (sig_len == 0 || sig_len > len - TRAILER_LEN)
		return pvsub_diag_set(diag, EBADMSG, "bad signature: sig_len %u out of range",
				      sig_len);
	out->content_len = len - TRAILER_LEN - sig_len;
	out->sig = data + out->content_len;
	out->sig_len = sig_len;
	return 0;
}

size_t pvsub_modsig_strip(const uint8_t *data, size_t len)
{
	struct pvsub_modsig_trailer t;

	while (pvsub_modsig_parse(data, len, &t, NULL) == 0)
		len = t.content_len;
	return len;
}

int pvsub_modsig_build(const uint8_t *content, size_t content_len, const uint8_t *sig,
		       size_t sig_len, struct pvsub_buf *out)
{
	uint8_t info[PVSUB_MODSIG_INFO_LEN] = {0};
	size_t start = out->len;
	int r;

	if (sig_len == 0 || sig_len > UINT32_MAX || !sig || (!content && content_len))
		return -EINVAL;
	info[2] = PVSUB_MODSIG_ID_PKCS7;
	info[8] = (uint8_t)(sig_len >> 24);
	info[9] = (uint8_t)(sig_len >> 16);
	info[10] = (uint8_t)(sig_len >> 8);
	info[11] = (uint8_t)sig_len;
	r = pvsub_buf_reserve(out, content_len + sig_len + TRAILER_LEN);
	if (r < 0)
		return r;
	if ((r = pvsub_buf_append(out, content, content_len)) < 0 ||
	    (r = pvsub_buf_append(out, sig, sig_len)) < 0 ||
	    (r = pvsub_buf_append(out, info, sizeof(info))) < 0 ||
	    (r = pvsub_buf_append(out, PVSUB_MODSIG_MAGIC, PVSUB_MODSIG_MAGIC_LEN)) < 0)
		out->len = start;
	return r;
}

int pvsub_modsig_sign(const struct pvsub_signer *s, enum pvsub_hash hash, const uint8_t *data,
		      size_t len, struct pvsub_buf *out, struct pvsub_diag *diag)
{
	struct pvsub_buf sig = {0};
	size_t content_len = pvsub_modsig_strip(data, len);
	struct pvsub_modsig_trailer t;
	int r;

	/* a marker the kernel would not accept: appending would stack on it */
	if (pvsub_modsig_parse(data, content_len, &t, NULL) == -EBADMSG)
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
	struct pvsub_modsig_trailer t;
	int r;

	r = pvsub_modsig_parse(data, len, &t, diag);
	if (r < 0)
		return r;
	return pvsub_cms_verify_keyring(t.sig, t.sig_len, data, t.content_len, keyring, diag);
}
