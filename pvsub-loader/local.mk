# pvsub-loader/local.mk: included from the top-level Makefile.am (non-recursive).
# The guest API (runtime/include/pvsub/guest.h, installed as <pvsub/guest.h>)
# and pvsub-loader, which runs guests against it.  Use += on shared variables.

pvsubincludedir = $(includedir)/pvsub
pvsubinclude_HEADERS = runtime/include/pvsub/guest.h
dist_man_MANS += man/pvsub-guest.3
