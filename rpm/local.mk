# rpm/local.mk: included from the top-level Makefile.am (non-recursive).
# Use += on shared variables (bin_PROGRAMS, TESTS, EXTRA_DIST, ...).
