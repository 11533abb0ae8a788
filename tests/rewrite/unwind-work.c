/*
 * unwind-work: functions that call back into the driver from several
 * frames deep, each with its own stack frame and some arithmetic with
 * immediates and displacements for the stress policies to hit.  Built with
 * the compilers' default flags: .eh_frame describes every function.
 */
#include <stddef.h>
#include <stdint.h>

typedef uint64_t (*uw_cb)(uint64_t);

struct uw_rec {
	uint32_t a, b, c, d;
	uint64_t w[12];
	uint8_t tag[40];
};

__attribute__((noinline)) uint64_t uw_level3(uw_cb cb, struct uw_rec *r, uint64_t x)
{
	volatile uint64_t local[24];
	for (unsigned i = 0; i < 24; i++)
		local[i] = x * 0x9e3779b97f4a7c15ull + i * 0x1234567ull;
	r->w[7] += local[x % 24] ^ 0xcafebabe;
	r->tag[33] = (uint8_t)(r->a * 0x45 + 0x21);
	uint64_t v = cb(x + local[3] % 0x10001);
	return v + r->w[7] * 0x3c5 + local[5];
}

__attribute__((noinline)) uint64_t uw_level2(uw_cb cb, struct uw_rec *r, uint64_t x)
{
	uint64_t acc = 0;
	switch (x % 7) {
	case 0:
		acc = r->a * 0x1f3u;
		break;
	case 1:
		acc = r->b + 0x8badf00du;
		break;
	case 2:
		acc = (uint64_t)r->c << 0x11;
		break;
	case 3:
		acc = r->d ^ 0xdeadbeefu;
		break;
	case 4:
		acc = r->w[9] - 0x7ff;
		break;
	case 5:
		acc = r->tag[17] * 0x101u;
		break;
	default:
		acc = 0x1234;
		break;
	}
	r->w[3] = acc + 0x55aa;
	return uw_level3(cb, r, x + acc % 0x3ff) * 3 + acc;
}

__attribute__((noinline)) uint64_t uw_level1(uw_cb cb, uint64_t x)
{
	struct uw_rec r = {.a = (uint32_t)x * 0x11u, .b = 0x2000, .c = 0x77, .d = 0x1c0ffee};
	for (unsigned i = 0; i < 12; i++)
		r.w[i] = x + i * 0x100000001ull;
	for (unsigned i = 0; i < 40; i++)
		r.tag[i] = (uint8_t)(i * 0x35 + 0x0b);
	uint64_t v = uw_level2(cb, &r, x);
	return v ^ r.w[3] ^ r.w[7] ^ r.tag[33];
}
