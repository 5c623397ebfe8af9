// SPDX-License-Identifier: MIT
/* Hand-made formatting for reports (see fmt.h). */
#include <errno.h>
#include <signal.h>

#include "fmt.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

void dune_out_init(struct dune_out *o, int fd)
{
	o->fd = fd;
	o->len = 0;
	o->buf[0] = '\0';
}

void dune_out_flush(struct dune_out *o)
{
	unsigned int done = 0;

	if (o->fd < 0)
		return;
	while (done < o->len) {
		long r = dune_sys3(SYS_write, o->fd, (long)(o->buf + done),
				   o->len - done);

		if (r == -EINTR)
			continue;
		if (r <= 0)
			break;
		done += r;
	}
	o->len = 0;
	o->buf[0] = '\0';
}

static void out_char(struct dune_out *o, char c)
{
	if (o->len + 1 >= sizeof(o->buf)) {
		if (o->fd < 0)
			return;		/* a kept buffer just truncates */
		dune_out_flush(o);
	}
	o->buf[o->len++] = c;
	o->buf[o->len] = '\0';
}

void dune_out_str(struct dune_out *o, const char *s)
{
	while (*s)
		out_char(o, *s++);
}

static void out_hex_digits(struct dune_out *o, uint64_t v, int min_digits)
{
	char d[16];
	int n = 0;

	do {
		d[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (n < min_digits)
		d[n++] = '0';
	out_char(o, '0');
	out_char(o, 'x');
	while (n)
		out_char(o, d[--n]);
}

void dune_out_hex(struct dune_out *o, uint64_t v)
{
	out_hex_digits(o, v, 1);
}

void dune_out_hex16(struct dune_out *o, uint64_t v)
{
	out_hex_digits(o, v, 16);
}

void dune_out_dec(struct dune_out *o, int64_t v)
{
	char d[20];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	int n = 0;

	do {
		d[n++] = '0' + u % 10;
		u /= 10;
	} while (u);
	if (v < 0)
		out_char(o, '-');
	while (n)
		out_char(o, d[--n]);
}

void dune_out_regs(struct dune_out *o, const struct dune_regs *r)
{
	static const char names[][7] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8 ",
		"r9 ", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
	};
	const uint64_t *v = (const uint64_t *)r;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		dune_out_str(o, i % 3 ? "  " : "    ");
		dune_out_str(o, names[i]);
		dune_out_str(o, " ");
		dune_out_hex16(o, v[i]);
		if (i % 3 == 2 || i + 1 == sizeof(names) / sizeof(names[0]))
			dune_out_str(o, "\n");
	}
}

void dune_out_windows(struct dune_out *o, const struct dune_layout *l)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++) {
		if (i)
			dune_out_str(o, ", ");
		dune_out_hex(o, l->w[i].va);
		dune_out_str(o, "-");
		dune_out_hex(o, l->w[i].va + l->w[i].size);
	}
}

static const char *const exit_reasons[DUNE_NR_EXIT_REASONS] = {
	[0] = "exception or NMI",
	[1] = "external interrupt",
	[2] = "triple fault",
	[3] = "INIT signal",
	[4] = "start-up IPI",
	[5] = "I/O SMI",
	[6] = "other SMI",
	[7] = "interrupt window",
	[8] = "NMI window",
	[9] = "task switch",
	[10] = "CPUID",
	[11] = "GETSEC",
	[12] = "HLT",
	[13] = "INVD",
	[14] = "INVLPG",
	[15] = "RDPMC",
	[16] = "RDTSC",
	[17] = "RSM",
	[18] = "VMCALL",
	[19] = "VMCLEAR",
	[20] = "VMLAUNCH",
	[21] = "VMPTRLD",
	[22] = "VMPTRST",
	[23] = "VMREAD",
	[24] = "VMRESUME",
	[25] = "VMWRITE",
	[26] = "VMXOFF",
	[27] = "VMXON",
	[28] = "control-register access",
	[29] = "debug-register access",
	[30] = "I/O instruction",
	[31] = "RDMSR",
	[32] = "WRMSR",
	[33] = "VM-entry failure: invalid guest state",
	[34] = "VM-entry failure: MSR loading",
	[36] = "MWAIT",
	[37] = "monitor trap flag",
	[39] = "MONITOR",
	[40] = "PAUSE",
	[41] = "VM-entry failure: machine-check event",
	[43] = "TPR below threshold",
	[44] = "APIC access",
	[45] = "virtualized EOI",
	[46] = "GDTR/IDTR access",
	[47] = "LDTR/TR access",
	[48] = "EPT violation",
	[49] = "EPT misconfiguration",
	[50] = "INVEPT",
	[51] = "RDTSCP",
	[52] = "VMX-preemption timer expired",
	[53] = "INVVPID",
	[54] = "WBINVD",
	[55] = "XSETBV",
	[56] = "APIC write",
	[57] = "RDRAND",
	[58] = "INVPCID",
	[59] = "VMFUNC",
	[60] = "ENCLS",
	[61] = "RDSEED",
	[62] = "page-modification log full",
	[63] = "XSAVES",
	[64] = "XRSTORS",
	[66] = "SPP-related event",
	[67] = "UMWAIT",
	[68] = "TPAUSE",
	[69] = "LOADIWKEY",
	[74] = "bus lock",
	[75] = "instruction timeout",
};

const char *dune_exit_reason_name(unsigned int reason)
{
	if (reason < DUNE_NR_EXIT_REASONS && exit_reasons[reason])
		return exit_reasons[reason];
	return "unknown";
}

static const struct {
	const char *mnemonic, *desc;
} vectors[32] = {
	[0] = { "#DE", "divide error" },
	[1] = { "#DB", "debug exception" },
	[2] = { "NMI", "non-maskable interrupt" },
	[3] = { "#BP", "breakpoint" },
	[4] = { "#OF", "overflow" },
	[5] = { "#BR", "bound range exceeded" },
	[6] = { "#UD", "invalid opcode" },
	[7] = { "#NM", "device not available" },
	[8] = { "#DF", "double fault" },
	[9] = { "#CSO", "coprocessor segment overrun" },
	[10] = { "#TS", "invalid TSS" },
	[11] = { "#NP", "segment not present" },
	[12] = { "#SS", "stack-segment fault" },
	[13] = { "#GP", "general protection fault" },
	[14] = { "#PF", "page fault" },
	[16] = { "#MF", "x87 floating-point error" },
	[17] = { "#AC", "alignment check" },
	[18] = { "#MC", "machine check" },
	[19] = { "#XM", "SIMD floating-point exception" },
	[20] = { "#VE", "virtualization exception" },
	[21] = { "#CP", "control protection exception" },
	[28] = { "#HV", "hypervisor injection exception" },
	[29] = { "#VC", "VMM communication exception" },
	[30] = { "#SX", "security exception" },
};

const char *dune_vector_mnemonic(unsigned int vector)
{
	if (vector >= 32)
		return "INT";
	return vectors[vector].mnemonic ? vectors[vector].mnemonic : "#??";
}

const char *dune_vector_desc(unsigned int vector)
{
	if (vector >= 32)
		return "interrupt";
	return vectors[vector].desc ? vectors[vector].desc
				    : "reserved exception";
}

int dune_vector_signal(unsigned int vector)
{
	switch (vector) {
	case 0:		/* #DE */
	case 16:	/* #MF */
	case 19:	/* #XM */
		return SIGFPE;
	case 6:		/* #UD */
		return SIGILL;
	case 1:		/* #DB */
	case 3:		/* #BP */
		return SIGTRAP;
	case 17:	/* #AC */
		return SIGBUS;
	default:	/* #PF, #GP, #SS, #NP and the rest */
		return SIGSEGV;
	}
}

int dune_vector_has_error_code(unsigned int vector)
{
	switch (vector) {
	case 8: case 10: case 11: case 12: case 13: case 14: case 17:
	case 21: case 29: case 30:
		return 1;
	default:
		return 0;
	}
}

DUNE_NOFPU_END
