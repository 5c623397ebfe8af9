/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints: every VM exit and every return to user space, for perf and
 * trace-cmd users ("perf trace -e dune:*", "trace-cmd record -e dune").
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dune

#if !defined(DUNE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define DUNE_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(dune_exit,
	TP_PROTO(u32 reason, u64 qual, u64 rip),
	TP_ARGS(reason, qual, rip),
	TP_STRUCT__entry(
		__field(u32, reason)
		__field(u64, qual)
		__field(u64, rip)
	),
	TP_fast_assign(
		__entry->reason = reason;
		__entry->qual = qual;
		__entry->rip = rip;
	),
	TP_printk("reason %u qual 0x%llx rip 0x%llx", __entry->reason,
		  __entry->qual, __entry->rip)
);

TRACE_EVENT(dune_user_exit,
	TP_PROTO(u32 exit_reason, u64 rax),
	TP_ARGS(exit_reason, rax),
	TP_STRUCT__entry(
		__field(u32, exit_reason)
		__field(u64, rax)
	),
	TP_fast_assign(
		__entry->exit_reason = exit_reason;
		__entry->rax = rax;
	),
	TP_printk("dune exit %u rax %llu", __entry->exit_reason, __entry->rax)
);

#endif

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
