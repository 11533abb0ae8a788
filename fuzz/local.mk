# fuzz/local.mk: included from the top-level Makefile.am (non-recursive).
# Use += on shared variables (bin_PROGRAMS, TESTS, EXTRA_DIST, ...).

# --- libFuzzer harnesses (make fuzz; never part of make check) ---------------
# build-and-run.sh compiles libpvsub's sources again with clang and the
# fuzzing sanitizers, seeds a corpus per harness from the fixtures and the
# sample image, and runs each harness FUZZ_SECONDS seconds; any crash, leak,
# timeout or sanitizer report fails.  Findings are left in fuzz/artifacts/.
FUZZ_HARNESSES = fuzz/fuzz_image.c fuzz/fuzz_input.c fuzz/fuzz_policy.c \
	fuzz/fuzz_pattern.c fuzz/fuzz_manifest.c fuzz/fuzz_verify.c fuzz/fuzz_bundle.c \
	fuzz/fuzz_modsig.c fuzz/fuzz_rewrite.c fuzz/fuzz_kmeta.c fuzz/fuzz_guestlink.c \
	fuzz/fuzz_diskimage.c fuzz/fuzz_kallsyms.c
FUZZ_SECONDS = 60
FUZZ_TARGETS =
FUZZ_JOBS =
CLANG = clang
EXTRA_DIST += $(FUZZ_HARNESSES) fuzz/build-and-run.sh fuzz/README.md fuzz/ksymseed.c

fuzz: all
	FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_JOBS='$(FUZZ_JOBS)' CLANG='$(CLANG)' \
		$(SHELL) $(top_srcdir)/fuzz/build-and-run.sh $(top_srcdir) $(top_builddir) \
		$(FUZZ_TARGETS)
.PHONY: fuzz clean-local-fuzz
clean-local: clean-local-fuzz
clean-local-fuzz:
	-rm -rf fuzz/obj fuzz/seeds fuzz/tmp fuzz/corpus fuzz/artifacts fuzz/pki fuzz/*.log \
		fuzz/*.dict fuzz/*.supp fuzz/fuzz_image fuzz/fuzz_input fuzz/fuzz_policy fuzz/fuzz_pattern \
		fuzz/fuzz_manifest fuzz/fuzz_verify fuzz/fuzz_bundle fuzz/fuzz_modsig fuzz/fuzz_rewrite \
		fuzz/fuzz_kmeta fuzz/fuzz_guestlink fuzz/fuzz_diskimage fuzz/fuzz_kallsyms

# --- mutation tests (make check): hostile ELF files and archives -------------------
check_PROGRAMS += fuzz/mutate
fuzz_mutate_SOURCES = fuzz/mutate.c
fuzz_mutate_LDADD = $(LIBPVSUB)
MUTATION_TESTS = tests/integration/mutate-elf.sh tests/integration/mutate-archive.sh
TESTS += $(MUTATION_TESTS)
EXTRA_DIST += $(MUTATION_TESTS)

# --- regressions: what the fuzzers found, and compressed input that is not ELF -----
HOSTILE_TESTS = tests/integration/fuzz-regressions.sh tests/integration/compressed-garbage.sh
TESTS += $(HOSTILE_TESTS)
EXTRA_DIST += $(HOSTILE_TESTS)
