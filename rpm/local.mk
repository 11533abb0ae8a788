# rpm/local.mk: included from the top-level Makefile.am (non-recursive).
# The rpmbuild integration (pvsub-rpm(7)): a macro file that rpm reads after
# its platform macros, and the build-root policy script it calls.
rpmmacrodir = $(sysconfdir)/rpm
rpmmacro_DATA = rpm/macros.pvsub
pkglibexec_SCRIPTS = rpm/brp-pvsub-sign
dist_man_MANS += man/pvsub-rpm.7

# The installed paths are substituted at make time (they may be overridden
# then), as the GNU coding standards ask.
rpm/macros.pvsub: $(top_srcdir)/rpm/macros.pvsub.in Makefile
	$(AM_V_GEN)$(MKDIR_P) rpm && \
	sed -e 's|@bindir[@]|$(bindir)|g' \
		-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
		-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(top_srcdir)/rpm/macros.pvsub.in >$@.tmp && mv $@.tmp $@
CLEANFILES += rpm/macros.pvsub

RPM_TESTS = rpm/test-rpmbuild.sh rpm/test-rpmbuild-rewrite.sh
TESTS += $(RPM_TESTS)
EXTRA_DIST += $(RPM_TESTS) rpm/test-lib.sh rpm/macros.pvsub.in rpm/brp-pvsub-sign rpm/example.spec
