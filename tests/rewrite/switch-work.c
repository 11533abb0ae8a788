/*
 * switch-work: dense switches that gcc and clang compile to jump tables
 * (with -fPIE or -fPIC: `.long case - table` entries in .rodata, loaded
 * through `lea table(%rip)`), several per function, one in a loop and one
 * nested, for switch.sh.
 */
#include <stdint.h>

__attribute__((noinline)) uint64_t sw_one(uint64_t x, uint64_t y)
{
	switch (x) {
	case 0:
		return y * 0x1f3;
	case 1:
		return y + 0x8badf00d;
	case 2:
		return y << 0x11;
	case 3:
		return y ^ 0xdeadbeef;
	case 4:
		return y - 0x7ff;
	case 5:
		return y * y + 0x45;
	case 6:
		return ~y;
	case 7:
		return y >> 3;
	case 8:
		return y | 0x1000;
	case 9:
		return y & 0xff00ff;
	default:
		return 0x1234;
	}
}

__attribute__((noinline)) uint64_t sw_two(uint32_t op, uint64_t a, uint64_t b)
{
	uint64_t r = 0;
	switch (op & 15) {
	case 0:
		r = a + b;
		break;
	case 1:
		r = a - b;
		break;
	case 2:
		r = a * b;
		break;
	case 3:
		r = b ? a / b : 0;
		break;
	case 4:
		r = b ? a % b : 0;
		break;
	case 5:
		r = a << (b & 63);
		break;
	case 6:
		r = a >> (b & 63);
		break;
	case 7:
		r = a & b;
		break;
	case 8:
		r = a | b;
		break;
	case 9:
		r = a ^ b;
		break;
	case 10:
		r = a == b;
		break;
	case 11:
		r = a < b;
		break;
	default:
		r = a + 0x300;
		break;
	}
	switch ((op >> 4) & 7) {
	case 0:
		return r;
	case 1:
		return r + 0x28;
	case 2:
		return r * 0x9e3779b97f4a7c15ull;
	case 3:
		return r ^ (r >> 13);
	case 4:
		return r + (r << 0x15);
	case 5:
		return r - 0x5555;
	default:
		return r * 3;
	}
}

/* A tiny stack machine: the switch runs in a loop, one nested. */
__attribute__((noinline)) int64_t sw_run(const uint8_t *code, unsigned n, int64_t x)
{
	int64_t st[16] = {x};
	unsigned sp = 1;
	for (unsigned pc = 0; pc < n; pc++) {
		switch (code[pc] % 12) {
		case 0:
			st[sp % 16] = code[pc] * 0x101;
			sp++;
			break;
		case 1:
			if (sp > 1) {
				sp--;
				st[(sp - 1) % 16] += st[sp % 16];
			}
			break;
		case 2:
			if (sp > 1) {
				sp--;
				st[(sp - 1) % 16] *= st[sp % 16];
			}
			break;
		case 3:
			st[(sp - 1) % 16] = -st[(sp - 1) % 16];
			break;
		case 4:
			st[sp % 16] = st[(sp - 1) % 16];
			sp++;
			break;
		case 5:
			switch (code[pc] / 12 % 5) {
			case 0:
				st[(sp - 1) % 16] ^= 0x5a5a;
				break;
			case 1:
				st[(sp - 1) % 16] >>= 1;
				break;
			case 2:
				st[(sp - 1) % 16] += 0x80000;
				break;
			case 3:
				st[(sp - 1) % 16] *= 7;
				break;
			default:
				st[(sp - 1) % 16] = 0;
				break;
			}
			break;
		case 6:
			if (sp > 1)
				sp--;
			break;
		case 7:
			st[(sp - 1) % 16] += 0x28;
			break;
		case 8:
			st[(sp - 1) % 16] |= 0x100;
			break;
		case 9:
			st[(sp - 1) % 16] &= 0xffff0fff;
			break;
		case 10:
			st[(sp - 1) % 16] -= 3;
			break;
		default:
			pc += code[pc] & 1;
			break;
		}
	}
	return st[(sp - 1) % 16];
}
