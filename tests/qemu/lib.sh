# Helpers for the QEMU tests (sourced after tests/lib.sh): what they need,
# the kernel package, and the boot.  The boot itself, and the choice of
# accelerator (KVM when a probe boot shows that it works, else TCG;
# PVSUB_QEMU_ACCEL=kvm|tcg forces one), are boot.sh's.
BOOT="$top_srcdir/tests/qemu/boot.sh"

# qemu_missing MESSAGE: something the QEMU tier needs is missing: skip, or
# fail when PVSUB_REQUIRE_CORPUS=1.
qemu_missing() {
	[ "${PVSUB_REQUIRE_CORPUS:-0}" = 1 ] && fail "$*"
	skip "$*"
}

# qemu_tier [TOOL]...: called first.  Skips when the real-kernel tier is
# off (PVSUB_SKIP_REAL_KERNEL=1); checks for QEMU, busybox-static, what
# boot.sh uses and the TOOLs the test names; finds or downloads the Debian
# cloud kernel package (tests/corpus/fetch-kernel.sh, cached in
# $PVSUB_CORPUS_DIR or the build tree) and sets KERNEL_DEB to its path.
qemu_tier() {
	real_kernel_tier
	for _qt_tool in qemu-system-x86_64 cpio dpkg-deb readelf timeout gzip "$@"; do
		command -v "$_qt_tool" >/dev/null || qemu_missing "$_qt_tool is not installed"
	done
	_qt_busybox=$(command -v busybox) || qemu_missing "busybox is not installed (Debian: busybox-static)"
	if LC_ALL=C readelf -l "$_qt_busybox" 2>/dev/null | grep -q 'program interpreter'; then
		qemu_missing "$_qt_busybox is dynamically linked (install busybox-static)"
	fi
	_qt_cache=${PVSUB_CORPUS_DIR:-$top_builddir/tests/corpus-cache}
	KERNEL_DEB=$("$top_srcdir/tests/corpus/fetch-kernel.sh" "$_qt_cache") ||
		qemu_missing "cannot fetch the Debian cloud kernel"
	echo "kernel: $KERNEL_DEB"
}

# qemu_boot ARG...: boot.sh ARG..., bounded by PVSUB_QEMU_TIMEOUT seconds
# (default 300); sets boot_status to its exit status and reports the time
# it took.
qemu_boot() {
	_qb_start=$(date +%s)
	boot_status=0
	sh "$BOOT" -t "${PVSUB_QEMU_TIMEOUT:-300}" "$@" || boot_status=$?
	echo "boot took $(($(date +%s) - _qb_start)) s (status $boot_status)"
}
