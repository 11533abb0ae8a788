/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/modsign.h"
#include "tests/unit/signfix.h"

static struct signfix fx;
static struct pvsub_signer *signer;
static struct pvsub_trust *keyring;

static void setup(void)
{
	struct pvsub_diag d = {{0}};

	signfix_make(&fx);
	cr_assert_eq(pvsub_signer_load(fx.key, fx.cert, NULL, &signer, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_trust_load(fx.cert, &keyring, &d), 0, "%s", d.msg);
}

static void teardown(void)
{
	pvsub_trust_free(keyring);
	pvsub_signer_free(signer);
	signfix_remove(&fx);
}

/* A stand-in module: the format does not care what the bytes are. */
static const uint8_t module[] = "\x7f"
				"ELF a very small module body, 48 bytes long...";

static void sign_module(const uint8_t *data, size_t len, struct pvsub_buf *out)
{
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_modsig_sign(signer, PVSUB_HASH_SHA256, data, len, out, &d), 0, "%s",
		     d.msg);
}

Test(modsig, build_layout)
{
	static const uint8_t sig[] = {0x30, 0x01, 0x02};
	static const uint8_t info[12] = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3};
	struct pvsub_modsig t;
	struct pvsub_buf b = {0};

	cr_assert_eq(pvsub_modsig_build(module, 10, sig, sizeof(sig), &b), 0);
	cr_assert_eq(b.len, 10 + 3 + 12 + 28);
	cr_assert_eq(memcmp(b.data, module, 10), 0);
	cr_assert_eq(memcmp(b.data + 10, sig, 3), 0);
	cr_assert_eq(memcmp(b.data + 13, info, 12), 0);
	cr_assert_eq(memcmp(b.data + 25, "~Module signature appended~\n", 28), 0);

	cr_assert_eq(pvsub_modsig_parse((uint8_t *)b.data, b.len, PVSUB_MODSIG_KERNEL, &t, NULL),
		     0);
	cr_assert_eq(t.offset, 10);
	cr_assert_eq(t.sig_len, 3);
	cr_assert_eq(t.sig_offset, 10);
	cr_assert_eq(t.id_type, PVSUB_MODSIG_ID_PKCS7);
	cr_assert_eq(pvsub_modsig_strip((uint8_t *)b.data, b.len), 10);
	cr_assert_eq(pvsub_modsig_build(module, 10, sig, 0, &b), -EINVAL);
	pvsub_buf_release(&b);
}

Test(modsig, parse_refuses_malformed_trailers)
{
	static const uint8_t sig[] = {0x30, 0x01, 0x02};
	struct pvsub_modsig t;
	struct pvsub_diag d = {{0}};
	struct pvsub_buf b = {0};
	uint8_t *info;

	cr_assert_eq(pvsub_modsig_parse(module, sizeof(module), PVSUB_MODSIG_KERNEL, &t, &d),
		     -ENOKEY);
	cr_assert_eq(pvsub_modsig_parse(NULL, 0, PVSUB_MODSIG_KERNEL, &t, &d), -ENOKEY);
	cr_assert_eq(pvsub_modsig_strip(module, sizeof(module)), sizeof(module));

	cr_assert_eq(pvsub_modsig_build(module, 4, sig, sizeof(sig), &b), 0);
	info = (uint8_t *)b.data + b.len - 40;
	for (size_t i = 0; i < 8; i++) {
		if (i == 2)
			continue;
		info[i] = 1;
		cr_assert_eq(
			pvsub_modsig_parse((uint8_t *)b.data, b.len, PVSUB_MODSIG_KERNEL, &t, &d),
			-EBADMSG, "field %zu", i);
		info[i] = 0;
	}
	info[2] = 1;
	cr_assert_eq(pvsub_modsig_parse((uint8_t *)b.data, b.len, PVSUB_MODSIG_KERNEL, &t, &d),
		     -EBADMSG);
	cr_assert(strstr(d.msg, "id_type"), "%s", d.msg);
	info[2] = 2;
	info[11] = 8; /* sig_len reaches before the file */
	cr_assert_eq(pvsub_modsig_parse((uint8_t *)b.data, b.len, PVSUB_MODSIG_KERNEL, &t, &d),
		     -EBADMSG);
	info[11] = 0;
	cr_assert_eq(pvsub_modsig_parse((uint8_t *)b.data, b.len, PVSUB_MODSIG_KERNEL, &t, &d),
		     -EBADMSG);
	info[11] = 7; /* the whole module is signature: still in range */
	cr_assert_eq(pvsub_modsig_parse((uint8_t *)b.data, b.len, PVSUB_MODSIG_KERNEL, &t, &d), 0);
	cr_assert_eq(t.offset, 0);
	/* every truncation of the marker-ended tail, without reading outside */
	for (size_t n = 0; n <= 40; n++) {
		int r = pvsub_modsig_parse((uint8_t *)b.data + b.len - n, n, PVSUB_MODSIG_KERNEL,
					   &t, NULL);

		cr_assert(r == -ENOKEY || r == -EBADMSG, "tail of %zu: %d", n, r);
	}
	pvsub_buf_release(&b);
}

/*
 * @content bytes of the module, @extra filler bytes (the signer name, key
 * id and signature the trailer accounts for), struct module_signature
 * @info and the marker.
 */
static void with_trailer(struct pvsub_buf *b, size_t content, size_t extra, const uint8_t info[12])
{
	pvsub_buf_reset(b);
	cr_assert_eq(pvsub_buf_append(b, module, content), 0);
	for (size_t i = 0; i < extra; i++)
		cr_assert_eq(pvsub_buf_append(b, "\x30", 1), 0);
	cr_assert_eq(pvsub_buf_append(b, info, PVSUB_MODSIG_INFO_LEN), 0);
	cr_assert_eq(pvsub_buf_append(b, PVSUB_MODSIG_MAGIC, PVSUB_MODSIG_MAGIC_LEN), 0);
}

static int parse(const struct pvsub_buf *b, enum pvsub_modsig_rules rules, struct pvsub_modsig *t,
		 struct pvsub_diag *d)
{
	return pvsub_modsig_parse((const uint8_t *)b->data, b->len, rules, t, d);
}

static void assert_absent(const struct pvsub_modsig *t)
{
	static const struct pvsub_modsig none;

	cr_assert_not(t->present);
	cr_assert_eq(t->offset, 0);
	cr_assert_eq(t->size, 0);
	cr_assert_eq(t->sig_len, 0);
	cr_assert_eq(memcmp(t->pad, none.pad, sizeof(none.pad)), 0);
}

/* Every trailer the kernel accepts, the scanner's rules accept the same way. */
Test(modsig, both_rules_read_the_kernel_format_alike)
{
	static const uint8_t sig[] = {0x30, 0x01, 0x02};
	struct pvsub_modsig k, l;
	struct pvsub_buf b = {0};

	cr_assert_eq(pvsub_modsig_build(module, 10, sig, sizeof(sig), &b), 0);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_KERNEL, &k, NULL), 0);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_LAYOUT, &l, NULL), 0);
	cr_assert(k.present && l.present);
	cr_assert_eq(l.offset, 10);
	cr_assert_eq(l.size, 3 + 12 + 28);
	cr_assert_eq(l.sig_offset, 10);
	cr_assert_eq(l.sig_len, 3);
	cr_assert_eq(k.offset, l.offset);
	cr_assert_eq(k.size, l.size);
	cr_assert_eq(k.sig_offset, l.sig_offset);
	cr_assert_eq(k.id_type, l.id_type);
	pvsub_buf_release(&b);
}

/*
 * The format fields: the kernel's rules refuse anything but PKCS#7 with
 * zeros; the scanner's accept them, and count the older format's signer
 * name and key id as signature, not as module.
 */
Test(modsig, layout_rules_accept_any_format)
{
	/* Linux 3.7-4.2: RSA, SHA-256, X.509 id, 5-byte signer, 6-byte key id */
	static const uint8_t x509[12] = {1, 4, 1, 5, 6, 0, 0, 0, 0, 0, 0, 8};
	static const uint8_t pgp[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8};
	static const uint8_t pad[12] = {0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0, 8};
	struct pvsub_diag d = {{0}};
	struct pvsub_buf b = {0};
	struct pvsub_modsig t;

	with_trailer(&b, 10, 5 + 6 + 8, x509);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_KERNEL, &t, &d), -EBADMSG);
	cr_assert(strstr(d.msg, "id_type 1"), "%s", d.msg);
	assert_absent(&t);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_LAYOUT, &t, &d), 0, "%s", d.msg);
	cr_assert(t.present);
	cr_assert_eq(t.offset, 10);
	cr_assert_eq(t.size, 5 + 6 + 8 + 40);
	cr_assert_eq(t.sig_offset, 10 + 5 + 6);
	cr_assert_eq(t.sig_len, 8);
	cr_assert_eq(t.algo, 1);
	cr_assert_eq(t.hash, 4);
	cr_assert_eq(t.id_type, 1);
	cr_assert_eq(t.signer_len, 5);
	cr_assert_eq(t.key_id_len, 6);
	/* a trailer the kernel refuses is neither stripped nor verified */
	cr_assert_eq(pvsub_modsig_strip((uint8_t *)b.data, b.len), b.len);

	with_trailer(&b, 10, 8, pgp);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_KERNEL, &t, &d), -EBADMSG);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_LAYOUT, &t, &d), 0, "%s", d.msg);
	cr_assert_eq(t.offset, 10);
	cr_assert_eq(t.id_type, 0);

	with_trailer(&b, 10, 8, pad);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_KERNEL, &t, &d), -EBADMSG);
	cr_assert(strstr(d.msg, "must be zero"), "%s", d.msg);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_LAYOUT, &t, &d), 0, "%s", d.msg);
	cr_assert_eq(t.offset, 10);
	cr_assert_eq(t.pad[1], 9);
	pvsub_buf_release(&b);
}

/* The lengths are strict under both: never a guess at where the module ends. */
Test(modsig, both_rules_refuse_lengths_that_do_not_add_up)
{
	static const enum pvsub_modsig_rules rules[] = {PVSUB_MODSIG_KERNEL, PVSUB_MODSIG_LAYOUT};
	uint8_t info[12] = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	uint8_t x509[12] = {1, 4, 1, 5, 6, 0, 0, 0, 0, 0, 0, 8};
	struct pvsub_diag d = {{0}};
	struct pvsub_buf b = {0};
	struct pvsub_modsig t;

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(rules); i++) {
		info[11] = 0; /* no signature at all */
		with_trailer(&b, 10, 0, info);
		cr_assert_eq(parse(&b, rules[i], &t, &d), -EBADMSG, "rules %zu", i);
		assert_absent(&t);
		info[11] = 9; /* one byte more than there is */
		with_trailer(&b, 0, 8, info);
		cr_assert_eq(parse(&b, rules[i], &t, &d), -EBADMSG, "rules %zu", i);
		cr_assert(strstr(d.msg, "does not fit"), "%s", d.msg);
		assert_absent(&t);
		info[11] = 8; /* exactly what there is */
		with_trailer(&b, 0, 8, info);
		cr_assert_eq(parse(&b, rules[i], &t, &d), 0, "rules %zu: %s", i, d.msg);
		cr_assert_eq(t.offset, 0);
		info[8] = 0x80; /* sig_len 2 GiB */
		with_trailer(&b, 10, 8, info);
		cr_assert_eq(parse(&b, rules[i], &t, &d), -EBADMSG, "rules %zu", i);
		info[8] = 0;
		/* a marker without a whole struct before it */
		cr_assert_eq(pvsub_modsig_parse((const uint8_t *)b.data + b.len - 39, 39, rules[i],
						&t, &d),
			     -EBADMSG);
		cr_assert(strstr(d.msg, "truncated"), "%s", d.msg);
		/* no marker */
		cr_assert_eq(
			pvsub_modsig_parse((const uint8_t *)b.data, b.len - 1, rules[i], &t, &d),
			-ENOKEY);
		assert_absent(&t);
	}
	/* the older format's signer name and key id must fit too */
	with_trailer(&b, 2, 5 + 6 + 8, x509);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_LAYOUT, &t, &d), 0, "%s", d.msg);
	cr_assert_eq(t.offset, 2);
	x509[4] = 9; /* key id 3 bytes longer: 1 byte before the file */
	with_trailer(&b, 2, 5 + 6 + 8, x509);
	cr_assert_eq(parse(&b, PVSUB_MODSIG_LAYOUT, &t, &d), -EBADMSG);
	cr_assert(strstr(d.msg, "does not fit"), "%s", d.msg);
	assert_absent(&t);
	pvsub_buf_release(&b);
}

/* Only the last signature counts; stripping takes every kernel one. */
Test(modsig, stacked_signatures)
{
	static const uint8_t sig[] = {0x30, 0x01, 0x02}, sig2[] = {0x30, 0x00};
	static const uint8_t x509[12] = {1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	struct pvsub_buf once = {0}, twice = {0};
	struct pvsub_modsig t;

	cr_assert_eq(pvsub_modsig_build(module, 10, sig, sizeof(sig), &once), 0);
	cr_assert_eq(pvsub_modsig_build((uint8_t *)once.data, once.len, sig2, sizeof(sig2), &twice),
		     0);
	cr_assert_eq(parse(&twice, PVSUB_MODSIG_KERNEL, &t, NULL), 0);
	cr_assert_eq(t.offset, once.len);
	cr_assert_eq(t.sig_len, 2);
	cr_assert_eq(parse(&twice, PVSUB_MODSIG_LAYOUT, &t, NULL), 0);
	cr_assert_eq(t.offset, once.len);
	cr_assert_eq(pvsub_modsig_strip((uint8_t *)twice.data, twice.len), 10);

	/* a kernel signature on top of one in another format: only the
	 * first is stripped, the other is left for the caller to refuse */
	with_trailer(&once, 10, 2, x509);
	pvsub_buf_reset(&twice);
	cr_assert_eq(pvsub_modsig_build((uint8_t *)once.data, once.len, sig2, sizeof(sig2), &twice),
		     0);
	cr_assert_eq(pvsub_modsig_strip((uint8_t *)twice.data, twice.len), once.len);
	pvsub_buf_release(&once);
	pvsub_buf_release(&twice);
}

Test(modsig, sign_verify_and_replace, .init = setup, .fini = teardown)
{
	struct pvsub_buf once = {0}, twice = {0}, stacked = {0};
	struct pvsub_trust *other = NULL;
	struct pvsub_modsig t;
	struct pvsub_diag d = {{0}};

	sign_module(module, sizeof(module), &once);
	cr_assert_eq(
		pvsub_modsig_parse((uint8_t *)once.data, once.len, PVSUB_MODSIG_KERNEL, &t, &d), 0);
	cr_assert_eq(t.offset, sizeof(module));
	cr_assert_eq(memcmp(once.data, module, sizeof(module)), 0);
	cr_assert_eq(pvsub_modsig_verify((uint8_t *)once.data, once.len, keyring, &d), 0, "%s",
		     d.msg);

	/* signing a signed module replaces the signature */
	sign_module((uint8_t *)once.data, once.len, &twice);
	cr_assert_eq(twice.len, once.len);
	cr_assert_eq(memcmp(twice.data, once.data, once.len), 0);

	/* a stack made by someone else collapses to one signature too */
	cr_assert_eq(pvsub_modsig_build((uint8_t *)once.data, once.len,
					(uint8_t *)once.data + t.sig_offset, t.sig_len, &stacked),
		     0);
	pvsub_buf_reset(&twice);
	sign_module((uint8_t *)stacked.data, stacked.len, &twice);
	cr_assert_eq(twice.len, once.len);

	cr_assert_eq(pvsub_modsig_verify(module, sizeof(module), keyring, &d), -ENOKEY);

	/* a malformed trailer is neither stripped nor stacked upon */
	stacked.data[stacked.len - 40] = 1; /* algo */
	pvsub_buf_reset(&twice);
	cr_assert_eq(pvsub_modsig_sign(signer, PVSUB_HASH_SHA256, (uint8_t *)stacked.data,
				       stacked.len, &twice, &d),
		     -EBADMSG);
	cr_assert(strstr(d.msg, "malformed"), "%s", d.msg);
	cr_assert_eq(pvsub_trust_load(fx.cert2, &other, &d), 0);
	cr_assert_eq(pvsub_modsig_verify((uint8_t *)once.data, once.len, other, &d), -EKEYREJECTED);
	cr_assert(strstr(d.msg, "untrusted signer"), "%s", d.msg);
	pvsub_trust_free(other);
	pvsub_buf_release(&stacked);
	pvsub_buf_release(&twice);
	pvsub_buf_release(&once);
}

Test(modsig, any_flipped_byte_fails, .init = setup, .fini = teardown, .timeout = 600)
{
	struct pvsub_buf b = {0};
	static const uint8_t masks[] = {0x01, 0xff};

	sign_module(module, sizeof(module), &b);
	for (size_t m = 0; m < sizeof(masks); m++) {
		for (size_t i = 0; i < b.len; i++) {
			b.data[i] ^= (char)masks[m];
			cr_assert_neq(pvsub_modsig_verify((uint8_t *)b.data, b.len, keyring, NULL),
				      0, "byte %zu ^ %#x of %zu still verifies", i, masks[m],
				      b.len);
			b.data[i] ^= (char)masks[m];
		}
	}
	cr_assert_eq(pvsub_modsig_verify((uint8_t *)b.data, b.len, keyring, NULL), 0);
	pvsub_buf_release(&b);
}

/* A minimal x86-64 ELF header of type @type with @shnum section headers
 * at offset 64 (left zero), in @buf of 64 + 64 * @shnum bytes. */
static size_t elf_header(uint8_t *buf, uint16_t type, uint16_t shnum)
{
	memset(buf, 0, 64 + 64 * (size_t)shnum);
	memcpy(buf, "\177ELF\2\1\1", 7); /* ELFCLASS64, ELFDATA2LSB, EV_CURRENT */
	buf[16] = (uint8_t)type;
	buf[18] = 62;		    /* EM_X86_64 */
	buf[20] = 1;		    /* e_version */
	buf[0x28] = shnum ? 64 : 0; /* e_shoff */
	buf[0x34] = 64;		    /* e_ehsize */
	buf[0x3a] = 64;		    /* e_shentsize */
	buf[0x3c] = (uint8_t)shnum;
	return 64 + 64 * (size_t)shnum;
}

static void refused(const uint8_t *data, size_t len, unsigned types, const char *why)
{
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_modsig_check_object(data, len, types, &d), -ENOEXEC, "%s", why);
	cr_assert(strstr(d.msg, why), "'%s' is not in '%s'", why, d.msg);
	cr_assert_null(strchr(d.msg, '\n'));
}

Test(modsig, check_object)
{
	static const uint8_t xz[] = {0xfd, '7', 'z', 'X', 'Z', 0, 0, 4};
	static const uint8_t gz[] = {0x1f, 0x8b, 8, 0};
	static const uint8_t zst[] = {0x28, 0xb5, 0x2f, 0xfd, 0};
	const unsigned any = PVSUB_OBJECT_REL | PVSUB_OBJECT_DYN | PVSUB_OBJECT_EXEC;
	struct pvsub_buf signed_rel = {0};
	uint8_t buf[64 * 4];
	size_t n;

	n = elf_header(buf, 1 /* ET_REL */, 3);
	cr_assert_eq(pvsub_modsig_check_signable(buf, n, NULL), 0);
	cr_assert_eq(pvsub_modsig_check_object(buf, n, any, NULL), 0);
	/* an appended signature is not part of the object */
	cr_assert_eq(pvsub_modsig_build(buf, n, (const uint8_t *)"\x30\x00", 2, &signed_rel), 0);
	cr_assert_eq(pvsub_modsig_check_signable((uint8_t *)signed_rel.data, signed_rel.len, NULL),
		     0);
	pvsub_buf_release(&signed_rel);

	refused(xz, sizeof(xz), PVSUB_OBJECT_REL, "xz-compressed");
	refused(xz, sizeof(xz), PVSUB_OBJECT_REL, "sign before compressing");
	refused(gz, sizeof(gz), PVSUB_OBJECT_REL, "gzip-compressed");
	refused(zst, sizeof(zst), any, "zstd-compressed");
	refused((const uint8_t *)"BZh91AY", 7, any, "bzip2-compressed");
	refused((const uint8_t *)"hello\n", 6, PVSUB_OBJECT_REL, "no ELF header");
	refused(NULL, 0, PVSUB_OBJECT_REL, "no ELF header");
	refused(buf, 10, PVSUB_OBJECT_REL, "truncated ELF header");
	refused(buf, 63, PVSUB_OBJECT_REL, "truncated ELF header");
	refused(buf, n - 1, PVSUB_OBJECT_REL, "section header table lies outside");

	n = elf_header(buf, 3 /* ET_DYN */, 1);
	refused(buf, n, PVSUB_OBJECT_REL, "ET_DYN");
	cr_assert_eq(pvsub_modsig_check_object(buf, n, any, NULL), 0);
	n = elf_header(buf, 2 /* ET_EXEC */, 0);
	refused(buf, n, PVSUB_OBJECT_REL, "ET_EXEC");
	cr_assert_eq(pvsub_modsig_check_object(buf, n, any, NULL), 0);
	n = elf_header(buf, 4 /* ET_CORE */, 0);
	refused(buf, n, any, "ET_CORE");
	/* a relocatable object needs its section headers */
	n = elf_header(buf, 1, 0);
	refused(buf, n, PVSUB_OBJECT_REL, "without section headers");

	n = elf_header(buf, 1, 1);
	buf[4] = 1; /* ELFCLASS32 */
	refused(buf, n, any, "32-bit");
	buf[4] = 2;
	buf[5] = 2; /* ELFDATA2MSB */
	refused(buf, n, any, "big-endian");
	buf[5] = 1;
	buf[18] = 183; /* EM_AARCH64 */
	refused(buf, n, any, "machine 183 (AArch64)");
	buf[18] = 62;
	buf[0x3a] = 40; /* e_shentsize of ELF32 */
	refused(buf, n, any, "section header size");
	buf[0x3a] = 64;
	cr_assert_eq(pvsub_modsig_check_object(buf, n, any, NULL), 0);
}
