// x86_64 start-up: entered by QEMU's PVH loader (-kernel) in 32-bit protected mode,
// paging off, %ebx -> hvm_start_info. We zero BSS, build an identity map of the first
// 4 GiB with 2 MiB pages, enter long mode with SSE usable, and call x64_main(start_info).
//
// Physical layout (linker.ld): the image is linked and loaded at 1 MiB, so every
// address here fits in 32 bits and is valid both before and after paging.

#include "mpconfigboard.h"

#define CR0_PE      (1 << 0)
#define CR0_MP      (1 << 1)
#define CR0_EM      (1 << 2)
#define CR0_TS      (1 << 3)
#define CR0_NE      (1 << 5)
#define CR0_WP      (1 << 16)
#define CR0_PG      (1 << 31)
#define CR4_PAE     (1 << 5)
#define CR4_OSFXSR  (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER    0xc0000080
#define EFER_LME    (1 << 8)
#define PTE_P       (1 << 0)
#define PTE_RW      (1 << 1)
#define PTE_PS      (1 << 7)

// PVH entry note: QEMU looks for it in a PT_NOTE segment (which must be 4-aligned).
// Xen ELF note type 18 = XEN_ELFNOTE_PHYS32_ENTRY, payload = 32-bit entry address.
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                 // namesz ("Xen\0")
    .long 4                 // descsz
    .long 18                // XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .long entry32

    .section .text.entry, "ax", @progbits
    .code32
    .globl entry32
entry32:
    cli
    cld
    movl %ebx, %esi                 // keep hvm_start_info across the set-up

    // Zero BSS (holds the page tables; the stack lives outside it and needs no zeroing).
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx                   // linker.ld keeps both ends 8-aligned
    xorl %eax, %eax
    rep stosl

    // PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3 (4 contiguous pages); each PD maps 1 GiB.
    movl $pdpt, %eax
    orl $(PTE_P | PTE_RW), %eax
    movl %eax, pml4
    movl $pd, %eax
    orl $(PTE_P | PTE_RW), %eax
    movl %eax, pdpt
    addl $4096, %eax
    movl %eax, pdpt + 8
    addl $4096, %eax
    movl %eax, pdpt + 16
    addl $4096, %eax
    movl %eax, pdpt + 24

    // 2048 PD entries: entry i maps physical i * 2 MiB (MMIO at 3-4 GiB included).
    movl $pd, %edi
    movl $(PTE_P | PTE_RW | PTE_PS), %eax
    movl $2048, %ecx
1:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    lgdt gdt_ptr

    // PAE plus what SSE needs (FXSAVE/FXRSTOR and #XM instead of #UD on SIMD faults).
    movl %cr4, %eax
    orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl %eax, %cr4

    movl $pml4, %eax
    movl %eax, %cr3

    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr

    // Paging on -> long mode active. Clear EM/TS so the first SSE instruction doesn't trap.
    movl %cr0, %eax
    andl $~(CR0_EM | CR0_TS), %eax
    orl $(CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG), %eax
    movl %eax, %cr0

    ljmp $0x08, $entry64

    .code64
entry64:
    movl $0x10, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorl %eax, %eax
    movw %ax, %fs
    movw %ax, %gs
    movq $__stack_top, %rsp         // 16-aligned (linker.ld); the call pushes 8 -> ABI frame
    xorl %ebp, %ebp
    fninit
    movl %esi, %edi                 // x64_main(hvm_start_info)
    call x64_main
2:  cli
    hlt
    jmp 2b

// Exception stubs (vectors 0-31). The CPU pushes an error code only for some vectors;
// the others push a 0 so the frame always looks the same to x64_trap().
.macro trap_noerr vec
    .globl x64_trap\vec
x64_trap\vec:
    pushq $0
    pushq $\vec
    jmp trap_common
.endm
.macro trap_err vec
    .globl x64_trap\vec
x64_trap\vec:
    pushq $\vec
    jmp trap_common
.endm

    .text
trap_noerr 0
trap_noerr 1
trap_noerr 2
trap_noerr 3
trap_noerr 4
trap_noerr 5
trap_noerr 6
trap_noerr 7
trap_err   8
trap_noerr 9
trap_err   10
trap_err   11
trap_err   12
trap_err   13
trap_err   14
trap_noerr 15
trap_noerr 16
trap_err   17
trap_noerr 18
trap_noerr 19
trap_noerr 20
trap_err   21
trap_noerr 22
trap_noerr 23
trap_noerr 24
trap_noerr 25
trap_noerr 26
trap_noerr 27
trap_noerr 28
trap_err   29
trap_err   30
trap_noerr 31
    // Any interrupt vector we did not expect (reported like an exception, error = 0).
    .globl x64_trap_other
x64_trap_other:
    pushq $0
    pushq $255
    jmp trap_common

// Stack now: vector, error, rip, cs, rflags, rsp, ss. These run on the IST stack
// (see board.c), so even a corrupt %rsp gets its one line printed.
trap_common:
    movq %rsp, %rdi
    andq $-16, %rsp
    call x64_trap                   // prints one line and powers off; never returns
3:  cli
    hlt
    jmp 3b

// LAPIC timer (board_idle's wake-up): acknowledge and return. Interrupts are enabled
// only inside board_idle's "sti; hlt", so this never interrupts C code.
    .globl x64_irq_timer
x64_irq_timer:
    pushq %rax
    movq lapic_eoi_reg(%rip), %rax
    movl $0, (%rax)
    popq %rax
    iretq

// Spurious interrupts (LAPIC vector 0xff, a masked 8259's IRQ7/15): no EOI, just return.
    .globl x64_irq_spurious
x64_irq_spurious:
    iretq

    .data
    .balign 16
gdt:
    .quad 0                         // null
    .quad 0x00af9a000000ffff        // 0x08: 64-bit code
    .quad 0x00cf92000000ffff        // 0x10: data
    .globl x64_gdt_tss
x64_gdt_tss:
    .quad 0, 0                      // 0x18: 64-bit TSS, filled in by board.c
gdt_end:
    .balign 8
    .word 0
gdt_ptr:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss.pagetables, "aw", @nobits
    .balign 4096
pml4: .skip 4096
pdpt: .skip 4096
pd:   .skip 4 * 4096

// The main stack (O3S_STACK_SIZE, which MicroPython's stack check also uses) and the
// IST stack on which exceptions run.
    .section .stack, "aw", @nobits
    .balign 16
    .skip O3S_STACK_SIZE
    .globl __stack_top
__stack_top:
    .skip 16384
    .globl x64_ist_top
x64_ist_top:

    .section .note.GNU-stack, "", @progbits
