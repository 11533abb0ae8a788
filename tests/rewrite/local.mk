# tests/rewrite/local.mk: included from the top-level Makefile.am (non-recursive).
# Per-rule rewriter tests: assembler fixtures linked into a test program, run
# before and after pvsub-scan --rewrite; compiled.sh does the same with gcc
# and clang output under random stress policies.
REWRITE_RULE_TESTS = \
	tests/rewrite/nop-split.sh \
	tests/rewrite/rel-adjust.sh \
	tests/rewrite/imm-lea.sh \
	tests/rewrite/lea-arith.sh \
	tests/rewrite/scratch-imm.sh \
	tests/rewrite/scratch-disp.sh \
	tests/rewrite/trap.sh \
	tests/rewrite/refusal.sh \
	tests/rewrite/relocations.sh \
	tests/rewrite/jump-table.sh \
	tests/rewrite/rel8-only.sh \
	tests/rewrite/edge.sh \
	tests/rewrite/jump-island.sh \
	tests/rewrite/near-island.sh \
	tests/rewrite/load-dest.sh \
	tests/rewrite/scratch-reg.sh \
	tests/rewrite/kernel-rules.sh
# What the rewriter must model or report (issue 9, section 2): kernel
# tables with empty alternatives, R_X86_64_NONE, occurrences at section
# junctions; refusals and summaries, whose tests run no driver.
REWRITE_RULE_TESTS += \
	tests/rewrite/tables.sh \
	tests/rewrite/none-reloc.sh \
	tests/rewrite/junction.sh
# Compiler output for user code (issue 12): unwind tables.
REWRITE_RULE_TESTS += tests/rewrite/eh-frame.sh
REWRITE_REPORT_TESTS = \
	tests/rewrite/refusals.sh \
	tests/rewrite/summary.sh
# Module-like objects checked from their tables, which run no driver.
REWRITE_TABLE_TESTS = tests/rewrite/label-island.sh
# Tests that build their fixture inline (no .S of their own).
REWRITE_INLINE_TESTS = tests/rewrite/junction-data.sh
REWRITE_TESTS = $(REWRITE_RULE_TESTS) $(REWRITE_REPORT_TESTS) $(REWRITE_TABLE_TESTS) \
	$(REWRITE_INLINE_TESTS) \
	tests/rewrite/compiled.sh tests/rewrite/unwind.sh tests/rewrite/switch.sh \
	tests/rewrite/libs.sh tests/rewrite/cfa-steps.sh
TESTS += $(REWRITE_TESTS)
EXTRA_DIST += $(REWRITE_TESTS) \
	tests/rewrite/local.mk tests/rewrite/lib.sh tests/rewrite/stress-lib.sh tests/rewrite/check.py \
	tests/rewrite/relocs.py \
	tests/rewrite/driver.h tests/rewrite/probe.S tests/rewrite/orc.h \
	$(REWRITE_RULE_TESTS:.sh=.S) $(REWRITE_RULE_TESTS:.sh=-driver.c) \
	$(REWRITE_REPORT_TESTS:.sh=.S) $(REWRITE_TABLE_TESTS:.sh=.S) \
	tests/rewrite/compiled-work.c tests/rewrite/compiled-driver.c \
	tests/rewrite/unwind-work.c tests/rewrite/unwind-driver.c \
	tests/rewrite/cfa-steps.S tests/rewrite/cfa-steps-driver.c tests/rewrite/cfa-strip.py \
	tests/rewrite/switch-work.c tests/rewrite/switch-driver.c \
	tests/rewrite/libs-zlib.c tests/rewrite/libs-lua.c tests/rewrite/libs.lua
