/*
 * Code for tests/rewrite/compiled.sh: ordinary C that gcc and clang turn
 * into the instruction mix real drivers have (struct fields at large
 * offsets, stack arrays, loops, constants, calls between functions,
 * function pointers), with a deterministic result for every input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct dev {
	uint32_t regs[300];
	uint64_t stats[40];
	uint8_t name[64];
	uint32_t (*hash)(const uint8_t *, size_t);
};

static uint32_t rotl(uint32_t x, unsigned r)
{
	return (x << (r & 31)) | (x >> ((32 - r) & 31));
}

__attribute__((noinline)) uint32_t work_fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 0x811c9dc5u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x01000193u;
	return h;
}

__attribute__((noinline)) uint32_t work_mix(const uint8_t *p, size_t n)
{
	uint32_t a = 0x9e3779b9u, b = 0x7f4a7c15u, c = 0x12345678u;
	for (size_t i = 0; i < n; i++) {
		a += p[i] * 0x2545f491u;
		b ^= rotl(a, 13) + 0xdeadbeefu;
		c -= rotl(b, 7) ^ 0x31415926u;
		a = (a & 0xffff0000u) | (c & 0x0000ffffu);
	}
	return a ^ b ^ c;
}

__attribute__((noinline)) void work_sort(int32_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int32_t x = v[i];
		size_t j = i;
		while (j > 0 && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

__attribute__((noinline)) uint64_t work_dev(struct dev *d, uint32_t seed)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < 300; i++)
		d->regs[i] = rotl(seed + i * 0x9e3779b9u, i) ^ 0xa5a5a5a5u;
	for (unsigned i = 0; i < 40; i++)
		d->stats[i] = (uint64_t)d->regs[i * 7] * 0x100000001b3ull + d->regs[299 - i];
	memset(d->name, 0, sizeof(d->name));
	for (unsigned i = 0; i < 63; i++)
		d->name[i] = (uint8_t)('a' + (d->regs[i + 200] % 26));
	if (d->regs[257] > 0x80000000u)
		d->stats[33] += 0x1234567;
	else
		d->stats[34] -= 0x7654321;
	for (unsigned i = 0; i < 40; i++)
		sum += d->stats[i] ^ (sum >> 3);
	return sum + d->hash(d->name, 63);
}

__attribute__((noinline)) uint64_t work_stack(uint32_t seed)
{
	uint32_t buf[257];
	uint64_t acc = 0;
	for (unsigned i = 0; i < 257; i++)
		buf[i] = seed * (i + 1) + 0x1000193u;
	for (unsigned i = 256; i > 0; i--)
		buf[i - 1] ^= buf[i] >> 5;
	for (unsigned i = 0; i < 257; i += 3)
		acc = acc * 31 + buf[i];
	return acc;
}

__attribute__((noinline)) uint64_t work_all(uint32_t seed)
{
	static struct dev d;
	int32_t v[64];
	uint64_t r;
	d.hash = seed & 1 ? work_fnv : work_mix;
	r = work_dev(&d, seed);
	for (unsigned i = 0; i < 64; i++)
		v[i] = (int32_t)(d.regs[i * 3] ^ seed) - 0x40000000;
	work_sort(v, 64);
	for (unsigned i = 0; i < 64; i += 5)
		r = r * 1000003u + (uint32_t)v[i];
	return r ^ work_stack(seed) ^ work_fnv(d.name, 40) ^ work_mix((const uint8_t *)v, 256);
}
