/* SPDX-License-Identifier: MIT */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "libpvsub/modsig.h"

#define TRAILER_LEN (PVSUB_MODSIG_INFO_LEN + PVSUB_MODSIG_MAGIC_LEN)

static bool has_marker(const uint8_t *data, size_t len)
{
	return data && len >= PVSUB_MODSIG_MAGIC_LEN &&
	       memcmp(data + len - PVSUB_MODSIG_MAGIC_LEN, PVSUB_MODSIG_MAGIC,
		      PVSUB_MODSIG_MAGIC_LEN) == 0;
}

int pvsub_modsig_parse(const uint8_t *data, size_t len, enum pvsub_modsig_rules rules,
		       struct pvsub_modsig *out, struct pvsub_diag *diag)
{
	struct pvsub_modsig t = {0};
	const uint8_t *info;
	uint64_t need;

	memset(out, 0, sizeof(*out));
	if (!has_marker(data, len))
		return pvsub_diag_set(diag, ENOKEY, "no module signature");
	if (len < TRAILER_LEN)
		return pvsub_diag_set(diag, EBADMSG, "module signature trailer truncated");
	info = data + len - TRAILER_LEN;
	t.algo = info[0];
	t.hash = info[1];
	t.id_type = info[2];
	t.signer_len = info[3];
	t.key_id_len = info[4];
	memcpy(t.pad, info + 5, 3);
	t.sig_len = pvsub_be32(info + 8);
	/* the kernel's mod_check_sig() refuses the same */
	if (rules == PVSUB_MODSIG_KERNEL && t.id_type != PVSUB_MODSIG_ID_PKCS7)
		return pvsub_diag_set(diag, EBADMSG,
				      "module signature trailer: id_type %u is not PKCS#7",
				      t.id_type);
	if (rules == PVSUB_MODSIG_KERNEL &&
	    (t.algo || t.hash || t.signer_len || t.key_id_len || t.pad[0] || t.pad[1] || t.pad[2]))
		return pvsub_diag_set(diag, EBADMSG,
				      "module signature trailer: fields that must be zero are not");
	/* 64 bits: cannot overflow */
	need = (uint64_t)t.signer_len + t.key_id_len + t.sig_len + TRAILER_LEN;
	if (t.sig_len == 0 || need > len)
		return pvsub_diag_set(diag, EBADMSG,
				      "module signature trailer: sig_len %u does not fit the file",
				      t.sig_len);
	t.present = true;
	t.offset = len - need;
	t.size = need;
	t.sig_offset = t.offset + t.signer_len + t.key_id_len;
	*out = t;
	return 0;
}

size_t pvsub_modsig_strip(const uint8_t *data, size_t len)
{
	struct pvsub_modsig t;

	while (pvsub_modsig_parse(data, len, PVSUB_MODSIG_KERNEL, &t, NULL) == 0)
		len = t.offset;
	return len;
}

int pvsub_modsig_build(const uint8_t *content, size_t content_len, const uint8_t *sig,
		       size_t sig_len, struct pvsub_buf *out)
{
	uint8_t info[PVSUB_MODSIG_INFO_LEN] = {0};
	size_t start = out->len;
	int r;

	if (sig_len == 0 || sig_len > UINT32_MAX || !sig || (!content && content_len))
		return -EINVAL;
	info[2] = PVSUB_MODSIG_ID_PKCS7;
	info[8] = (uint8_t)(sig_len >> 24);
	info[9] = (uint8_t)(sig_len >> 16);
	info[10] = (uint8_t)(sig_len >> 8);
	info[11] = (uint8_t)sig_len;
	r = pvsub_buf_reserve(out, content_len + sig_len + TRAILER_LEN);
	if (r < 0)
		return r;
	if ((r = pvsub_buf_append(out, content, content_len)) < 0 ||
	    (r = pvsub_buf_append(out, sig, sig_len)) < 0 ||
	    (r = pvsub_buf_append(out, info, sizeof(info))) < 0 ||
	    (r = pvsub_buf_append(out, PVSUB_MODSIG_MAGIC, PVSUB_MODSIG_MAGIC_LEN)) < 0)
		out->len = start;
	return r;
}

/* ---- what can be signed ------------------------------------------------------ */

/* Formats a module is shipped compressed in (the kernel's module
 * decompressors, plus bzip2 and lz4 frames), by magic. */
static const struct {
	const char *name;
	uint8_t magic[6];
	size_t len;
} compressions[] = {
	{"xz", {0xfd, '7', 'z', 'X', 'Z', 0x00}, 6}, {"gzip", {0x1f, 0x8b}, 2},
	{"zstd", {0x28, 0xb5, 0x2f, 0xfd}, 4},	     {"bzip2", {'B', 'Z', 'h'}, 3},
	{"lz4", {0x04, 0x22, 0x4d, 0x18}, 4},
};

static const char *type_name(unsigned type)
{
	switch (type) {
	case ET_NONE:
		return "an ELF file of no type (ET_NONE)";
	case ET_REL:
		return "a relocatable object (ET_REL)";
	case ET_EXEC:
		return "an executable (ET_EXEC)";
	case ET_DYN:
		return "a shared object or PIE (ET_DYN)";
	case ET_CORE:
		return "a core file (ET_CORE)";
	}
	return NULL;
}

static const char *machine_name(unsigned machine)
{
	switch (machine) {
	case EM_386:
		return "i386";
	case EM_ARM:
		return "ARM";
	case EM_AARCH64:
		return "AArch64";
	case EM_PPC64:
		return "PowerPC64";
	case EM_S390:
		return "s390";
	case EM_RISCV:
		return "RISC-V";
	}
	return "unknown";
}

/* "an x86-64 relocatable object", "an x86-64 ELF object (relocatable,
 * shared or executable)", ... for the message */
static const char *wanted(unsigned types)
{
	switch (types & (PVSUB_OBJECT_REL | PVSUB_OBJECT_DYN | PVSUB_OBJECT_EXEC)) {
	case PVSUB_OBJECT_REL:
		return "an x86-64 ELF relocatable object (.ko)";
	case PVSUB_OBJECT_REL | PVSUB_OBJECT_DYN:
		return "an x86-64 ELF relocatable or shared object";
	}
	return "an x86-64 ELF object";
}

static bool type_allowed(unsigned type, unsigned types)
{
	return (type == ET_REL && (types & PVSUB_OBJECT_REL)) ||
	       (type == ET_DYN && (types & PVSUB_OBJECT_DYN)) ||
	       (type == ET_EXEC && (types & PVSUB_OBJECT_EXEC));
}

int pvsub_modsig_check_object(const uint8_t *data, size_t len, unsigned types,
			      struct pvsub_diag *diag)
{
	const char *want = wanted(types);
	size_t content = pvsub_modsig_strip(data, len);
	unsigned type, machine, shentsize;
	uint64_t shoff, shnum;

	if (!data)
		content = 0;
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(compressions); i++)
		if (content >= compressions[i].len &&
		    memcmp(data, compressions[i].magic, compressions[i].len) == 0)
			return pvsub_diag_set(diag, ENOEXEC,
					      "%s-compressed, not %s: sign before compressing",
					      compressions[i].name, want);
	if (content < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
		return pvsub_diag_set(diag, ENOEXEC, "no ELF header, not %s", want);
	if (content < EI_NIDENT)
		return pvsub_diag_set(diag, ENOEXEC, "truncated ELF header, not %s", want);
	if (data[EI_CLASS] == ELFCLASS32)
		return pvsub_diag_set(diag, ENOEXEC, "a 32-bit ELF object, not %s", want);
	if (data[EI_CLASS] != ELFCLASS64)
		return pvsub_diag_set(diag, ENOEXEC, "an ELF object of unknown class %u, not %s",
				      data[EI_CLASS], want);
	if (data[EI_DATA] == ELFDATA2MSB)
		return pvsub_diag_set(diag, ENOEXEC, "a big-endian ELF object, not %s", want);
	if (data[EI_DATA] != ELFDATA2LSB)
		return pvsub_diag_set(diag, ENOEXEC,
				      "an ELF object of unknown byte order %u, not %s",
				      data[EI_DATA], want);
	if (content < sizeof(Elf64_Ehdr))
		return pvsub_diag_set(diag, ENOEXEC, "truncated ELF header, not %s", want);
	type = pvsub_le16(data + offsetof(Elf64_Ehdr, e_type));
	machine = pvsub_le16(data + offsetof(Elf64_Ehdr, e_machine));
	if (machine != EM_X86_64)
		return pvsub_diag_set(diag, ENOEXEC, "an ELF object for machine %u (%s), not %s",
				      machine, machine_name(machine), want);
	if (!type_allowed(type, types)) {
		if (type_name(type))
			return pvsub_diag_set(diag, ENOEXEC, "%s, not %s", type_name(type), want);
		return pvsub_diag_set(diag, ENOEXEC, "an ELF file of type %u, not %s", type, want);
	}

	shoff = pvsub_le64(data + offsetof(Elf64_Ehdr, e_shoff));
	shnum = pvsub_le16(data + offsetof(Elf64_Ehdr, e_shnum));
	shentsize = pvsub_le16(data + offsetof(Elf64_Ehdr, e_shentsize));
	if (shoff == 0 && shnum == 0) {
		if (type == ET_REL)
			return pvsub_diag_set(diag, ENOEXEC,
					      "a relocatable object without section headers");
		return 0;
	}
	if (shentsize != sizeof(Elf64_Shdr))
		return pvsub_diag_set(diag, ENOEXEC, "section header size %u is not %zu", shentsize,
				      sizeof(Elf64_Shdr));
	if (shoff > content || content - shoff < sizeof(Elf64_Shdr))
		return pvsub_diag_set(diag, ENOEXEC,
				      "the section header table lies outside the file "
				      "(truncated?)");
	/* more than SHN_LORESERVE sections: the count is in section 0 */
	if (shnum == 0)
		shnum = pvsub_le64(data + shoff + offsetof(Elf64_Shdr, sh_size));
	if (shnum > (content - shoff) / sizeof(Elf64_Shdr))
		return pvsub_diag_set(diag, ENOEXEC,
				      "the section header table lies outside the file "
				      "(truncated?)");
	return 0;
}

int pvsub_modsig_check_signable(const uint8_t *data, size_t len, struct pvsub_diag *diag)
{
	return pvsub_modsig_check_object(data, len, PVSUB_OBJECT_REL, diag);
}
