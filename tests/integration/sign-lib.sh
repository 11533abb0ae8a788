# Helpers for the pvsub-sign integration tests (sourced after tests/lib.sh).
# mkpki makes throwaway keys and certificates with the openssl command in
# the test's scratch directory:
#   ca.pem/ca.key      a CA            s.pem/s.key    a signer it issued
#   ca2.pem/ca2.key    another CA      s2.pem/s2.key  a signer that one issued
#   old.pem            an expired certificate for s.key, issued by ca
#   future.pem         a certificate for s.key, issued by ca, not valid yet
#   senc.key           s.key encrypted with the passphrase "s3cret"
SIGN="$top_builddir/pvsub-sign/pvsub-sign"
command -v openssl >/dev/null || skip "the openssl command is needed (Debian: openssl)"

mkpki() {
	ossl() { openssl "$@" 2>>pki.log || { cat pki.log; fail "openssl $1 failed"; }; }
	for c in ca ca2; do
		ossl req -x509 -newkey rsa:2048 -nodes -keyout $c.key -out $c.pem -days 30 \
			-subj "/CN=pvsub $c" -addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign"
	done
	for s in s:ca s2:ca2; do
		k=${s%:*} c=${s#*:}
		ossl req -newkey rsa:2048 -nodes -keyout $k.key -out $k.csr -subj "/CN=pvsub signer $k"
		# A random 64-bit serial (POSIX sh has no $RANDOM).
		serial=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
		ossl x509 -req -in $k.csr -CA $c.pem -CAkey $c.key -set_serial "0x$serial" \
			-days 30 -out $k.pem
	done
	# An expired certificate needs explicit dates: openssl ca takes them.
	mkdir -p newcerts && : > index.txt && echo 1000 > serial
	cat > ca.cnf <<-'CNF'
	[ca]
	default_ca = d
	[d]
	database = index.txt
	new_certs_dir = newcerts
	serial = serial
	default_md = sha256
	policy = p
	unique_subject = no
	[p]
	commonName = supplied
	CNF
	ossl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in s.csr -out old.pem \
		-startdate 20200101000000Z -enddate 20200201000000Z -notext -subj "/CN=pvsub expired"
	ossl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in s.csr -out future.pem \
		-startdate 20991231000000Z -enddate 21000131000000Z -notext -subj "/CN=pvsub future"
	ossl pkey -in s.key -aes256 -passout pass:s3cret -out senc.key
}

# modko NAME: a tiny relocatable "module" with a .modinfo section
modko() {
	printf '\t.section .modinfo,"a"\n\t.asciz "license=GPL"\n\t.asciz "name=%s"\n' "$1" >"$1.s"
	printf '\t.text\n\t.globl f\nf:\tret\n' >>"$1.s"
	"$CC" -c -x assembler -o "$1.ko" "$1.s"
}

# unsigned_part MODULE OUT SIG: split an appended signature off MODULE
split_modsig() {
	python3 - "$1" "$2" "$3" <<-'PY'
	import sys
	d = open(sys.argv[1], "rb").read()
	assert d.endswith(b"~Module signature appended~\n"), "no marker"
	n = int.from_bytes(d[-40 + 8:-28], "big")
	c = len(d) - 40 - n
	open(sys.argv[2], "wb").write(d[:c])
	open(sys.argv[3], "wb").write(d[c:c + n])
	PY
}
