# pvsub-loader/local.mk: included from the top-level Makefile.am (non-recursive).
# The guest API (runtime/include/pvsub/guest.h, installed as <pvsub/guest.h>)
# and pvsub-loader, which runs guests against it.  Use += on shared variables.

pvsubincludedir = $(includedir)/pvsub
pvsubinclude_HEADERS = runtime/include/pvsub/guest.h
dist_man_MANS += man/pvsub-guest.3

# pvsub-loader links only the trust, elf and core areas: no libelf, no
# capstone (tests/integration/layering.sh checks the built program).  It
# never runs guest code: it links the guest against pvsub-guestrun's API
# addresses (pvsub-loader/guestrun-api.c, generated from the runtime's
# symbols) and execs the runtime.
bin_PROGRAMS += pvsub-loader/pvsub-loader
pvsub_loader_pvsub_loader_SOURCES = \
	pvsub-loader/loader.h \
	pvsub-loader/main.c \
	pvsub-loader/rescan.c pvsub-loader/rescan.h \
	runtime/handoff.h \
	runtime/include/pvsub/guest.h
nodist_pvsub_loader_pvsub_loader_SOURCES = pvsub-loader/guestrun-api.c
pvsub_loader_pvsub_loader_CPPFLAGS = $(AM_CPPFLAGS) \
	-DGUESTRUN_PATH='"$(pkglibexecdir)/pvsub-guestrun"'
pvsub_loader_pvsub_loader_LDADD = $(LIBPVSUB_TRUST) cli/libcli.la
dist_man_MANS += man/pvsub-loader.8
CLEANFILES += pvsub-loader/guestrun-api.c

# pvsub-guestrun: the static runtime the guest runs in, built with musl-gcc
# (not libtool's compiler: static, not position-independent, so that the
# guest API's addresses are fixed), never with the sanitizers.  Its
# warnings are the tree's.
GUESTRUN_SRCS = runtime/guestrun.c runtime/guestapi.c runtime/guestapi.h \
	runtime/gate.c runtime/gate.h runtime/gatescan.c runtime/gatescan.h \
	runtime/lockdown.c runtime/lockdown.h \
	runtime/handoff.h runtime/include/pvsub/guest.h libpvsub/util.h
EXTRA_DIST += $(GUESTRUN_SRCS) runtime/gen-api.sh
if HAVE_MUSL
pkglibexec_SCRIPTS += runtime/pvsub-guestrun
runtime/pvsub-guestrun: $(GUESTRUN_SRCS)
	@$(MKDIR_P) runtime
	$(AM_V_CCLD)$(MUSL_GCC) -std=gnu11 -D_GNU_SOURCE -DGUESTAPI_WORLD=GUESTRUN_WINDOW \
		$(WARN_CFLAGS) -O2 -static -no-pie -fno-pie -I$(top_srcdir) -o $@ $(filter %.c,$^)
GUESTRUN_BIN = runtime/pvsub-guestrun
else
GUESTRUN_BIN =
endif
CLEANFILES += runtime/pvsub-guestrun
pvsub-loader/guestrun-api.c: $(top_srcdir)/runtime/gen-api.sh $(GUESTRUN_BIN)
	@$(MKDIR_P) pvsub-loader
	$(AM_V_GEN)NM="$(NM)" $(SHELL) $(top_srcdir)/runtime/gen-api.sh $(GUESTRUN_BIN) > $@.tmp && \
		mv $@.tmp $@

# The example guests (examples/guests): built with guestlink.h's flags,
# certified under guest-policy.xml (rewritten if the scan rejects them),
# signed by a throwaway test PKI (examples/guests/pki, made once with the
# pvsub-sign tests' mkpki) and bundled.  Run one with
#   PVSUB_GUESTRUN=runtime/pvsub-guestrun pvsub-loader --ca \
#	examples/guests/pki/ca.pem --loopback examples/guests/loopback.tar
GUEST_EXAMPLES = loopback pktgen sink echo
GUEST_BUNDLES = examples/guests/loopback.tar examples/guests/pktgen.tar \
	examples/guests/sink.tar examples/guests/echo.tar
EXTRA_DIST += examples/guests/build-guests.sh examples/guests/guest-policy.xml \
	examples/guests/guestlib.h examples/guests/loopback.c examples/guests/pktgen.c \
	examples/guests/sink.c examples/guests/echo.c
noinst_DATA += $(GUEST_BUNDLES)
$(GUEST_BUNDLES): examples/guests/build-guests.sh examples/guests/guest-policy.xml \
		runtime/include/pvsub/guest.h tests/integration/sign-lib.sh \
		pvsub-scan/pvsub-scan$(EXEEXT) pvsub-sign/pvsub-sign$(EXEEXT)
BUILD_GUEST = CC="$(CC)" SCAN=$(abs_top_builddir)/pvsub-scan/pvsub-scan \
	SIGN=$(abs_top_builddir)/pvsub-sign/pvsub-sign \
	$(SHELL) $(top_srcdir)/examples/guests/build-guests.sh $(abs_top_srcdir) $(abs_top_builddir)
examples/guests/loopback.tar: examples/guests/loopback.c
	$(AM_V_GEN)$(BUILD_GUEST) loopback
# After loopback.tar, which makes the test PKI once.
examples/guests/pktgen.tar: examples/guests/pktgen.c examples/guests/guestlib.h \
		examples/guests/loopback.tar
	$(AM_V_GEN)$(BUILD_GUEST) pktgen
examples/guests/sink.tar: examples/guests/sink.c examples/guests/guestlib.h \
		examples/guests/loopback.tar
	$(AM_V_GEN)$(BUILD_GUEST) sink
examples/guests/echo.tar: examples/guests/echo.c examples/guests/guestlib.h \
		examples/guests/loopback.tar
	$(AM_V_GEN)$(BUILD_GUEST) echo
CLEANFILES += $(GUEST_BUNDLES) examples/guests/loopback.o examples/guests/loopback.xml \
	examples/guests/pktgen.o examples/guests/pktgen.xml examples/guests/sink.o \
	examples/guests/sink.xml examples/guests/echo.o examples/guests/echo.xml
clean-local: clean-local-guests
clean-local-guests:
	-rm -rf examples/guests/pki
.PHONY: clean-local-guests

LOADER_TESTS = tests/integration/loader.sh tests/integration/loader-attacks.sh \
	tests/integration/guests.sh tests/integration/loader-pkey.sh \
	tests/integration/loader-pkey-hw.sh tests/qemu/loader-pkey.sh \
	tests/integration/loader-threads.sh tests/qemu/loader-threads.sh
TESTS += $(LOADER_TESTS)
EXTRA_DIST += $(LOADER_TESTS) tests/guest/pkey-attack.c tests/guest/threads.c tests/integration/pkey-lib.sh tests/integration/runtime-lib.sh \
	tests/integration/pkey-run.sh

# The guest API and the loopback device, tested by themselves.
check_PROGRAMS += tests/unit/test_guestapi
tests_unit_test_guestapi_SOURCES = tests/unit/test_guestapi.c runtime/guestapi.c \
	runtime/guestapi.h
tests_unit_test_guestapi_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_guestapi_LDADD = $(LIBPVSUB_TRUST) $(CRITERION_LIBS)
TESTS += tests/unit/test_guestapi

# The runtime's gate matcher against libpvsub's, for the default profile.
check_PROGRAMS += tests/unit/test_gatescan
tests_unit_test_gatescan_SOURCES = tests/unit/test_gatescan.c runtime/gatescan.c \
	runtime/gatescan.h
tests_unit_test_gatescan_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_gatescan_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_gatescan

# The runtime's seccomp filter, built and run by a BPF interpreter on
# synthetic system calls (never installed), for both backends.
check_PROGRAMS += tests/unit/test_lockdown
tests_unit_test_lockdown_SOURCES = tests/unit/test_lockdown.c runtime/lockdown.c \
	runtime/lockdown.h
tests_unit_test_lockdown_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_lockdown_LDADD = $(CRITERION_LIBS)
TESTS += tests/unit/test_lockdown
