# tests/qemu/local.mk: included from the top-level Makefile.am (non-recursive).
# Real-kernel tests: boot.sh boots the Debian cloud kernel under QEMU with a
# busybox initramfs; the tests using it skip without qemu, busybox-static or
# the kernel package (fail with PVSUB_REQUIRE_CORPUS=1).  lib.sh holds what
# they share; boot.sh alone chooses the accelerator (kvm-fallback.sh tests
# that choice with a fake QEMU whose KVM is broken).
QEMU_TESTS = tests/qemu/kvm-fallback.sh tests/qemu/module-signature.sh \
	tests/qemu/rewrite-crypto.sh tests/qemu/label-island.sh
TESTS += $(QEMU_TESTS)
EXTRA_DIST += $(QEMU_TESTS) tests/qemu/lib.sh tests/qemu/boot.sh \
	tests/qemu/choose-patterns.py
