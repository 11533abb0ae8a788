#!/bin/sh
# pvsub-sign's and brp-pvsub-sign's command lines: one error per mistake,
# naming the file that failed and only that one, pointing at the
# subcommand's own --help; --help and --version after every subcommand; a
# hint at --pass-file and PVSUB_KEY_PASS for an encrypted key.  And the sign
# tests' own helpers are POSIX sh (make check may run them with dash).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
mkpki
modko m

# one_error CMD STATUS ARG...: pvsub-sign ARG... exits STATUS with exactly
# one error line and the "Try 'pvsub-sign CMD --help'" line
one_error() {
	cmd=$1 st=$2
	shift 2
	expect_status "$st" "$SIGN" "$@"
	[ ! -s out ] || fail "'$*' wrote to stdout: $(cat out)"
	[ "$(wc -l < err)" -eq 2 ] || fail "'$*': not one error: $(cat err)"
	head -n 1 err | grep -q '^pvsub-sign: ' || fail "'$*': $(cat err)"
	[ "$(sed -n 2p err)" = "Try 'pvsub-sign $cmd --help' for more information." ] ||
		fail "'$*': $(cat err)"
}

for c in sign verify bundle unbundle; do
	expect_status 0 "$SIGN" $c --version
	head -n 1 out | grep -Eq '^pvsub-sign \(pvsub\) [0-9]+\.[0-9]+' ||
		fail "$c --version: $(cat out err)"
	[ ! -s err ] || fail "$c --version: $(cat err)"
	expect_status 0 "$SIGN" $c --help
	grep -q "^Usage: pvsub-sign $c" out || fail "$c --help"
	grep -q -- '--version' out || fail "$c --help does not list --version"
	one_error $c 2 $c --frobnicate
	grep -q "unrecognized option '--frobnicate'" err || fail "$c: $(cat err)"
	one_error $c 2 $c -Z
	grep -q "invalid option -- 'Z'" err || fail "$c: $(cat err)"
	one_error $c 2 $c --help=yes
	grep -q "option '--help' doesn't allow an argument" err || fail "$c: $(cat err)"
done
one_error sign 2 sign --key
grep -q "option '--key' requires an argument" err || fail "sign --key: $(cat err)"
one_error sign 2 sign m.ko -k
grep -q "option requires an argument -- 'k'" err || fail "sign -k: $(cat err)"
one_error verify 2 verify --module m.ko --keyring
# an unknown letter inside a cluster, after a long option; a value given to
# an abbreviated option that takes none
one_error sign 2 sign --module -Zm m.ko
grep -q "invalid option -- 'Z'" err || fail "sign --module -Zm: $(cat err)"
one_error sign 2 sign --mod=yes m.ko
grep -q "option '--module' doesn't allow an argument" err || fail "sign --mod=yes: $(cat err)"
one_error verify 2 verify --quiet=1 m.ko
grep -q "option '--quiet' doesn't allow an argument" err || fail "verify --quiet=1: $(cat err)"
one_error bundle 2 bundle -o
one_error unbundle 2 unbundle -C
# the subcommand's own usage errors point at its own --help
one_error sign 2 sign --key s.key m.ko
grep -q -- '--key and --cert are required' err || fail "sign: $(cat err)"
one_error sign 2 sign --key s.key --cert s.pem
one_error bundle 2 bundle --key s.key -o b.tar m.ko m.xml
one_error verify 2 verify --module m.ko
one_error unbundle 2 unbundle a b
# the top level keeps its own
expect_status 2 "$SIGN" frobnicate
[ "$(sed -n 2p err)" = "Try 'pvsub-sign --help' for more information." ] || fail "$(cat err)"

# an encrypted key without a passphrase: its name once, and where the
# passphrase goes
expect_status 2 "$SIGN" sign --module --key senc.key --cert s.pem m.ko
[ "$(wc -l < err)" -eq 1 ] || fail "encrypted key: $(cat err)"
[ "$(grep -o 'senc.key' err | wc -l)" -eq 1 ] || fail "encrypted key named twice: $(cat err)"
grep -q '^pvsub-sign: senc.key: the key is encrypted' err || fail "encrypted key: $(cat err)"
grep -q -- '--pass-file' err && grep -q 'PVSUB_KEY_PASS' err ||
	fail "no hint at --pass-file or PVSUB_KEY_PASS: $(cat err)"
expect_status 0 "$SCAN" --manifest m.xml m.ko
expect_status 2 "$SIGN" bundle --key senc.key --cert s.pem -o b.tar m.ko m.xml
grep -q -- 'senc.key: the key is encrypted.*--pass-file' err || fail "bundle: $(cat err)"

# a missing or bad certificate is the certificate's fault, not the key's
expect_status 2 "$SIGN" sign --key s.key --cert nocert.pem m.ko
[ "$(cat err)" = "pvsub-sign: nocert.pem: No such file or directory" ] ||
	fail "missing certificate: $(cat err)"
expect_status 2 "$SIGN" sign --key s.key --cert s.key m.ko
grep -q '^pvsub-sign: s.key: not a PEM certificate' err || fail "bad certificate: $(cat err)"
expect_status 2 "$SIGN" sign --key nokey.pem --cert s.pem m.ko
[ "$(cat err)" = "pvsub-sign: nokey.pem: No such file or directory" ] ||
	fail "missing key: $(cat err)"
expect_status 2 "$SIGN" sign --key s.pem --cert s.pem m.ko
grep -q '^pvsub-sign: s.pem: not a PEM private key' err || fail "bad key: $(cat err)"
expect_status 2 "$SIGN" sign --key s2.key --cert s.pem m.ko
grep -q '^pvsub-sign: s2.key: the key does not match the certificate s.pem$' err ||
	fail "mismatch: $(cat err)"

# brp-pvsub-sign: an option without its value is a usage error, not a shell
# error
BRP="$top_srcdir/rpm/brp-pvsub-sign"
for o in --scan --sign --policy --rewrite --key --cert; do
	expect_status 2 sh "$BRP" $o
	[ "$(sed -n 1p err)" = "brp-pvsub-sign: option $o needs a value" ] ||
		fail "brp-pvsub-sign $o: $(cat err)"
	sed -n 2p err | grep -q '^usage: brp-pvsub-sign .*--key KEY.pem --cert CERT.pem' ||
		fail "brp-pvsub-sign $o: no usage line: $(cat err)"
	[ "$(wc -l < err)" -eq 2 ] || fail "brp-pvsub-sign $o: $(cat err)"
done
expect_status 2 sh "$BRP" --key k.pem --cert
grep -q 'option --cert needs a value' err || fail "brp-pvsub-sign --cert: $(cat err)"
expect_status 2 sh "$BRP" --frob x
grep -q "unknown argument '--frob'" err && grep -q '^usage: ' err || fail "$(cat err)"
expect_status 2 sh "$BRP" --rewrite yes
grep -q "takes 0 or 1" err || fail "brp-pvsub-sign --rewrite yes: $(cat err)"

# The man pages say what the tools do: every long option of every
# subcommand's --help is in pvsub-sign(1); every macro of macros.pvsub and
# every option of brp-pvsub-sign is in pvsub-rpm(7), which no longer calls
# rewriting unavailable; pvsub-sign(1) says what sign --module and bundle
# refuse and what a certificate outside its validity gives.
#
# man_has PAGE OPTION: PAGE mentions --OPTION as troff writes it (\-\-opt)
man_has() {
	grep -qF -- "$(printf '%s' "$2" | sed 's/-/\\-/g')" "$top_srcdir/man/$1"
}
for c in sign verify bundle unbundle; do
	for o in $("$SIGN" $c --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		man_has pvsub-sign.1 "$o" || fail "pvsub-sign $c $o is not in pvsub-sign(1)"
	done
done
for o in $(sh "$BRP" --help | grep -o -- '--[a-z]*' | sort -u); do
	man_has pvsub-rpm.7 "$o" || fail "brp-pvsub-sign $o is not in pvsub-rpm(7)"
done
macros=$(sed -n 's/^#\{0,1\}%\(_\{1,2\}pvsub_[a-z_]*\).*/\1/p' "$top_srcdir/rpm/macros.pvsub.in" |
	sort -u)
case " $(echo $macros) " in
*" _pvsub_rewrite "*) ;;
*) fail "no %_pvsub_rewrite in macros.pvsub: $macros" ;;
esac
for mac in $macros; do
	grep -qF "%$mac" "$top_srcdir/man/pvsub-rpm.7" || fail "%$mac is not in pvsub-rpm(7)"
done
for what in 'Only an x86-64 ELF relocatable object can carry a module signature' \
	'signed before compressing' '^\.SH "CERTIFICATE VALIDITY"' 'signing anyway' \
	'^\.B ET_DYN$'; do
	grep -q "$what" "$top_srcdir/man/pvsub-sign.1" || fail "pvsub-sign(1) lacks '$what'"
done
if grep -q 'not available' "$top_srcdir/man/pvsub-rpm.7"; then
	fail "pvsub-rpm(7) still calls something not available"
fi

# sign-lib.sh under a POSIX shell that is not bash: no $RANDOM
if command -v dash >/dev/null; then
	mkdir posix
	(cd posix && dash -eu -c '
		fail() { echo "FAIL: $*" >&2; exit 1; }
		skip() { echo "SKIP: $*" >&2; exit 77; }
		. "$top_srcdir/tests/integration/sign-lib.sh"
		mkpki') >posix.log 2>&1 || {
		cat posix.log
		fail "sign-lib.sh does not run under dash"
	}
	[ -s posix/s.pem ] && [ -s posix/s2.pem ] || fail "mkpki under dash made no certificates"
fi
exit 0
