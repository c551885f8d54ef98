// unix target: a Linux x86_64 process.
#define MICROPY_HW_BOARD_NAME          "unix"
#define MICROPY_HW_MCU_NAME            "x86_64"
#define MICROPY_FLOAT_IMPL             (MICROPY_FLOAT_IMPL_DOUBLE)
// Host scripts may be run for development (--script FILE): import from the host's files.
#define MICROPY_PY_SYS_ARGV            (1)
#define O3S_STACK_SIZE                 (1024 * 1024)
// The terminal turns \n into \r\n for us.
#define MP_PLAT_PRINT_STRN(str, len)   mp_hal_stdout_tx_strn(str, len)
#define O3S_SCRIPT_MODE                (1)
