// qemu-virt-aarch64: bare metal on QEMU's virt machine (Cortex-A76, PL011, virtio-mmio).
#define MICROPY_HW_BOARD_NAME          "qemu-virt-aarch64"
#define MICROPY_HW_MCU_NAME            "cortex-a76"
#define MICROPY_FLOAT_IMPL             (MICROPY_FLOAT_IMPL_DOUBLE)
// The stack reserved in linker.ld (STACK_SIZE); keep the two in step.
#define O3S_STACK_SIZE                 (1024 * 1024)
