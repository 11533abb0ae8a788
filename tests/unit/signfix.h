/* SPDX-License-Identifier: MIT */
/*
 * Throwaway keys and certificates for the signing tests (test_crypto,
 * test_modsig, test_bundle), made with OpenSSL at run time in a fresh
 * temporary directory.
 */
#ifndef PVSUB_TEST_SIGNFIX_H
#define PVSUB_TEST_SIGNFIX_H

#include <limits.h>

struct signfix {
	char dir[PATH_MAX];
	/* a CA, a signer it issued, a second CA and its own signer, and a
	 * signer of the first CA whose certificate has expired */
	char ca[PATH_MAX], key[PATH_MAX], cert[PATH_MAX];
	char ca2[PATH_MAX], key2[PATH_MAX], cert2[PATH_MAX];
	char key_old[PATH_MAX], cert_old[PATH_MAX];
	/* the first signer's key again, encrypted with "s3cret" */
	char key_enc[PATH_MAX];
};

/* Make everything; aborts the test (cr_assert) on failure. */
void signfix_make(struct signfix *f);
void signfix_remove(struct signfix *f);

#endif
