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

