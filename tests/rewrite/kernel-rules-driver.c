/* Driver for kernel-rules.S: see driver.h.  The fixture's functions run in
 * user space; only their tables make them look like kernel code. */
#include "driver.h"

void kr_frame(void), kr_drap(void), kr_push_imm(void), kr_push_mem_sp(void), kr_push_mem_bp(void),
	kr_push_rbx(void), kr_bp_push(void), kr_lock(void), kr_lock_di(void), kr_lea_sp(void),
	kr_and_btr(void), kr_align(void), kr_scratch(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (int set = 0; set < 3; set++) {
		/* Offsets into mem[] that differ per set, odd ones included. */
		int64_t at = 256 + 97 * set;

		regs_init(in, 0);
		for (int r = 0; set > 0 && r < RFLAGS; r++)
			in[r] = set == 1 ? ~UINT64_C(0)
					 : UINT64_C(0x8000000180000001) * (uint64_t)set;
		probe_flags("kr_frame", kr_frame, in);
		probe_flags("kr_drap", kr_drap, in);
		probe_flags("kr_push_imm", kr_push_imm, in);
		probe_flags("kr_push_mem_sp", kr_push_mem_sp, in);
		probe_flags("kr_bp_push", kr_bp_push, in);
		probe_dead_flags("kr_lea_sp", kr_lea_sp, in);
		probe_dead_flags("kr_and_btr", kr_and_btr, in);
		probe_dead_flags("kr_align", kr_align, in);

		/* rbp + 8 * rsi + 0x42ecdccc lies 8k + 1 bytes above rbp +
		 * 0x31ebdbcb: the displacements differ by 0x11010101 (1 mod 8). */
		in[RBP] = mem_at(at) - 0x31ebdbcbu;
		in[RSI] = (uint64_t)((64 * set + 1 - INT64_C(0x11010101)) / 8);
		probe_flags("kr_push_mem_bp", kr_push_mem_bp, in);

		regs_init(in, 0);
		in[RDI] = mem_at(at + 8) - 0x11e6d6c6u;
		in[RDX] = mem_at(at + 16) - 0x22e7d7c7u;
		in[RSI] = mem_at(at + 24) - 0x40u;
		probe_flags("kr_lock", kr_lock, in);
		in[RDI] = mem_at(at + 32) - 0x33e8d8c8u;
		in[RSI] = UINT64_C(0x0123456789abcdef) * (uint64_t)(set + 1);
		probe_flags("kr_lock_di", kr_lock_di, in);
		in[RBX] = mem_at(at + 40) - 0x184u;
		probe_flags("kr_scratch", kr_scratch, in);
		/* The word at at + 48 to at + 56. */
		in[RBX] = mem_at(at + 48) - 0x51efdfcfu;
		probe_flags("kr_push_rbx", kr_push_rbx, in);
	}
	return 0;
}
