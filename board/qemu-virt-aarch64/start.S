// Entry for qemu-system-aarch64 -M virt -kernel: get to EL1 with FP on, a stack,
// zeroed BSS, TLS, exception vectors and the MMU/caches on, then call o3s_port_main.

#define SCTLR_M         (1 << 0)
#define SCTLR_A         (1 << 1)
#define SCTLR_C         (1 << 2)
#define SCTLR_I         (1 << 12)
#define SCTLR_WXN       (1 << 19)
#define SCTLR_EL1_RES1  0x30d00800          // RES1 bits; MMU, caches, alignment check off
#define SPSR_EL1H_MASKED 0x3c5              // EL1h, D/A/I/F masked

// Block descriptors: AF, attr index, shareability, execute-never for devices.
#define DESC_DEVICE     0x0060000000000401  // attr0 (nGnRE), UXN|PXN
#define DESC_NORMAL     0x0000000000000705  // attr1 (WB), inner shareable
#define MAIR_VALUE      0xff04              // attr0 Device-nGnRE, attr1 Normal WB RA/WA
// T0SZ=25 (39-bit VA, walk starts at level 1), WBWA inner/outer, inner shareable,
// 4 KB granule, TTBR1 walks disabled (EPD1). IPS filled in from ID_AA64MMFR0_EL1.
#define TCR_VALUE       ((25 << 0) | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23))

    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0                         // QEMU may pass a DTB pointer; keep it
    mrs     x0, mpidr_el1                   // one CPU only: park any other (with PSCI,
    mov     x1, #0xffffff                   // QEMU keeps them off anyway)
    orr     x1, x1, #(0xff << 32)
    tst     x0, x1
    b.ne    park
    mrs     x0, CurrentEL
    lsr     x0, x0, #2
    mov     x20, x0                         // entry EL: QEMU's PSCI needs EL < 3
    cmp     x0, #3
    b.eq    from_el3
    cmp     x0, #2
    b.eq    from_el2
    b       at_el1

from_el3:                                   // -M virt,secure=on: go straight to EL1
    mrs     x0, id_aa64pfr0_el1             // GIC system registers present?
    ubfx    x0, x0, #24, #4
    cbz     x0, 1f
    mov     x0, #0xf                        // ICC_SRE_EL3: SRE|DFB|DIB|Enable
    msr     S3_6_C12_C12_5, x0
    isb
1:  mov     x0, #0x431                      // SCR_EL3: NS, RES1 bits, RW (EL1 is AArch64)
    msr     scr_el3, x0
    msr     cptr_el3, xzr                   // no FP traps
    b       drop_to_el1

from_el2:                                   // -M virt,virtualization=on
    mov     x0, #(1 << 31)                  // HCR_EL2.RW; no traps, no stage 2
    msr     hcr_el2, x0
    mov     x0, #3                          // EL1 may read the physical counter and timer
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr                // virtual time == physical time
    mov     x0, #0x33ff                     // CPTR_EL2: RES1 bits, TFP clear
    msr     cptr_el2, x0
    mrs     x0, midr_el1                    // EL1 reads the virtualized IDs: make them real
    msr     vpidr_el2, x0
    mrs     x0, mpidr_el1
    msr     vmpidr_el2, x0
    mrs     x0, id_aa64pfr0_el1
    ubfx    x0, x0, #24, #4
    cbz     x0, drop_to_el1
    mov     x0, #0xf                        // ICC_SRE_EL2: let EL1 use the GICv3 sysregs
    msr     S3_4_C12_C9_5, x0
    isb
drop_to_el1:
    ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    mov     x1, #SPSR_EL1H_MASKED
    adr     x0, at_el1
    mrs     x2, CurrentEL
    cmp     x2, #(3 << 2)
    b.eq    2f
    msr     spsr_el2, x1
    msr     elr_el2, x0
    eret
2:  msr     spsr_el3, x1
    msr     elr_el3, x0
    eret

at_el1:
    msr     daifset, #0xf                   // interrupts only ever wake WFI, never taken
    mov     x0, #(3 << 20)                  // CPACR_EL1.FPEN: no FP/SIMD traps
    msr     cpacr_el1, x0
    isb

    ldr     x0, =__stack_top
    mov     sp, x0

    // Zero .tbss and .bss (the page table lives there).
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
3:  cmp     x0, x1
    b.hs    4f
    stp     xzr, xzr, [x0], #16
    b       3b
4:
    ldr     x0, =_o3s_boot_x0
    str     x19, [x0]
    str     x20, [x0, #8]                   // _o3s_boot_el

    // One thread: the TLS template in the image is the TLS block (picolibc's errno).
    ldr     x0, =__tls_base
    sub     x0, x0, #16                     // AArch64 variant 1: 16-byte TCB before the block
    msr     tpidr_el0, x0

    ldr     x0, =o3s_vectors
    msr     vbar_el1, x0

    // Level-1 table, 1 GB blocks: 0-1 GB devices (UART, RTC, GIC, virtio-mmio, fw_cfg,
    // PCIe window), 1-256 GB normal memory (virt puts RAM there, up to 255 GB).
    ldr     x0, =o3s_ttb_l1
    ldr     x1, =DESC_DEVICE
    str     x1, [x0]
    ldr     x1, =DESC_NORMAL
    mov     x2, #1
5:  orr     x3, x1, x2, lsl #30
    str     x3, [x0, x2, lsl #3]
    add     x2, x2, #1
    cmp     x2, #256
    b.lo    5b
    dsb     ishst

    ldr     x1, =MAIR_VALUE
    msr     mair_el1, x1
    ldr     x1, =TCR_VALUE
    mrs     x2, id_aa64mmfr0_el1            // IPS = the CPU's physical address size
    and     x2, x2, #7
    orr     x1, x1, x2, lsl #32
    msr     tcr_el1, x1
    msr     ttbr0_el1, x0
    isb
    tlbi    vmalle1
    ic      iallu
    dsb     ish
    isb

    mrs     x0, sctlr_el1
    orr     x0, x0, #SCTLR_M
    orr     x0, x0, #SCTLR_C
    orr     x0, x0, #SCTLR_I
    bic     x0, x0, #SCTLR_A                // unaligned access allowed on normal memory
    bic     x0, x0, #SCTLR_WXN
    msr     sctlr_el1, x0
    isb

    mov     x29, xzr
    mov     x30, xzr
    bl      o3s_port_main
6:  wfi                                     // not reached
    b       6b

park:
    wfe
    b       park

// Exception vectors: every exception is fatal. x0 = vector index, then the C handler
// prints one line and powers off. It runs on its own stack so a stack overflow still reports.
    .macro vec idx
    .balign 0x80
    mov     x0, #\idx
    b       exc_common
    .endm

    .section .text.vectors, "ax"
    .balign 2048
    .global o3s_vectors
o3s_vectors:
    vec 0
    vec 1
    vec 2
    vec 3
    vec 4
    vec 5
    vec 6
    vec 7
    vec 8
    vec 9
    vec 10
    vec 11
    vec 12
    vec 13
    vec 14
    vec 15

exc_common:
    ldr     x1, =__exc_stack_top
    mov     sp, x1
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    bl      board_exception
7:  wfi
    b       7b

    .section .bss.bootinfo, "aw", %nobits
    .balign 8
    .global _o3s_boot_x0, _o3s_boot_el
_o3s_boot_x0:
    .space 8
_o3s_boot_el:
    .space 8

    .section .bss.ttb, "aw", %nobits
    .balign 4096
    .global o3s_ttb_l1
o3s_ttb_l1:
    .space 4096
