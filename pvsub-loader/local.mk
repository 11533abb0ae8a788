# pvsub-loader/local.mk: included from the top-level Makefile.am (non-recursive).
# The guest API (runtime/include/pvsub/guest.h, installed as <pvsub/guest.h>)
# and pvsub-loader, which runs guests against it.  Use += on shared variables.

pvsubincludedir = $(includedir)/pvsub
pvsubinclude_HEADERS = runtime/include/pvsub/guest.h
dist_man_MANS += man/pvsub-guest.3

# pvsub-loader links only the trust, elf and core areas: no libelf, no
# capstone (tests/integration/layering.sh checks the built program).
bin_PROGRAMS += pvsub-loader/pvsub-loader
pvsub_loader_pvsub_loader_SOURCES = \
	pvsub-loader/loader.h \
	pvsub-loader/main.c \
	pvsub-loader/guestapi.c \
	runtime/include/pvsub/guest.h
pvsub_loader_pvsub_loader_LDADD = $(LIBPVSUB_TRUST) cli/libcli.la
dist_man_MANS += man/pvsub-loader.8

# The example guests (examples/guests): built with guestlink.h's flags,
# certified under guest-policy.xml (rewritten if the scan rejects them),
# signed by a throwaway test PKI (examples/guests/pki, made once with the
# pvsub-sign tests' mkpki) and bundled.  Run one with
#   pvsub-loader --backend none --ca examples/guests/pki/ca.pem --loopback \
#	examples/guests/loopback.tar
GUEST_EXAMPLES = loopback
GUEST_BUNDLES = examples/guests/loopback.tar
EXTRA_DIST += examples/guests/build-guests.sh examples/guests/guest-policy.xml \
	examples/guests/loopback.c
noinst_DATA += $(GUEST_BUNDLES)
$(GUEST_BUNDLES): examples/guests/build-guests.sh examples/guests/guest-policy.xml \
		runtime/include/pvsub/guest.h tests/integration/sign-lib.sh \
		pvsub-scan/pvsub-scan$(EXEEXT) pvsub-sign/pvsub-sign$(EXEEXT)
examples/guests/loopback.tar: examples/guests/loopback.c
	$(AM_V_GEN)CC="$(CC)" SCAN=$(abs_top_builddir)/pvsub-scan/pvsub-scan \
		SIGN=$(abs_top_builddir)/pvsub-sign/pvsub-sign \
		$(SHELL) $(top_srcdir)/examples/guests/build-guests.sh $(abs_top_srcdir) \
		$(abs_top_builddir) loopback
CLEANFILES += $(GUEST_BUNDLES) examples/guests/loopback.o examples/guests/loopback.xml
clean-local: clean-local-guests
clean-local-guests:
	-rm -rf examples/guests/pki
.PHONY: clean-local-guests

LOADER_TESTS = tests/integration/loader.sh
TESTS += $(LOADER_TESTS)
EXTRA_DIST += $(LOADER_TESTS)

# The guest API and the loopback device, tested by themselves.
check_PROGRAMS += tests/unit/test_guestapi
tests_unit_test_guestapi_SOURCES = tests/unit/test_guestapi.c pvsub-loader/guestapi.c \
	pvsub-loader/loader.h
tests_unit_test_guestapi_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_guestapi_LDADD = $(LIBPVSUB_TRUST) $(CRITERION_LIBS)
TESTS += tests/unit/test_guestapi
