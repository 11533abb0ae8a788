# pvsub-sign/local.mk: included from the top-level Makefile.am (non-recursive).
# Use += on shared variables (bin_PROGRAMS, TESTS, EXTRA_DIST, ...).

bin_PROGRAMS += pvsub-sign/pvsub-sign
pvsub_sign_pvsub_sign_SOURCES = \
	pvsub-sign/pvsub-sign.h \
	pvsub-sign/main.c \
	pvsub-sign/sign.c \
	pvsub-sign/verify.c \
	pvsub-sign/bundle.c \
	pvsub-sign/unbundle.c
pvsub_sign_pvsub_sign_LDADD = $(LIBPVSUB_TRUST) cli/libcli.la

dist_man_MANS += man/pvsub-sign.1

SIGN_UNIT_TESTS = \
	tests/unit/test_crypto \
	tests/unit/test_modsig \
	tests/unit/test_bundle \
	tests/unit/test_verify
check_PROGRAMS += $(SIGN_UNIT_TESTS)
tests_unit_test_crypto_SOURCES = tests/unit/test_crypto.c tests/unit/signfix.c tests/unit/signfix.h
tests_unit_test_crypto_CFLAGS = $(UNIT_CFLAGS) $(LIBCRYPTO_CFLAGS)
tests_unit_test_crypto_LDADD = $(UNIT_LDADD) $(LIBCRYPTO_LIBS)
tests_unit_test_modsig_SOURCES = tests/unit/test_modsig.c tests/unit/signfix.c tests/unit/signfix.h
tests_unit_test_modsig_CFLAGS = $(UNIT_CFLAGS) $(LIBCRYPTO_CFLAGS)
tests_unit_test_modsig_LDADD = $(UNIT_LDADD) $(LIBCRYPTO_LIBS)
tests_unit_test_bundle_SOURCES = tests/unit/test_bundle.c tests/unit/signfix.c tests/unit/signfix.h
tests_unit_test_bundle_CFLAGS = $(UNIT_CFLAGS) $(LIBARCHIVE_CFLAGS) $(LIBCRYPTO_CFLAGS)
tests_unit_test_bundle_LDADD = $(UNIT_LDADD) $(LIBARCHIVE_LIBS) $(LIBCRYPTO_LIBS)

tests_unit_test_verify_SOURCES = tests/unit/test_verify.c tests/unit/signfix.c tests/unit/signfix.h
tests_unit_test_verify_CFLAGS = $(UNIT_CFLAGS) $(LIBCRYPTO_CFLAGS)
tests_unit_test_verify_LDADD = $(UNIT_LDADD) $(LIBCRYPTO_LIBS)

SIGN_INTEGRATION_TESTS = \
	tests/integration/sign-module.sh \
	tests/integration/sign-manifest.sh \
	tests/integration/sign-bundle.sh \
	tests/integration/sign-pkcs11.sh \
	tests/integration/sign-refuse.sh \
	tests/integration/sign-validity.sh \
	tests/integration/sign-cli.sh
TESTS += $(SIGN_UNIT_TESTS) $(SIGN_INTEGRATION_TESTS)
EXTRA_DIST += $(SIGN_INTEGRATION_TESTS) tests/integration/sign-lib.sh
