// MicroPython configuration shared by every O3Storage target; mpconfigboard.h adds the
// per-target bits (names, float, stack size).
#include <stddef.h>
#include <stdint.h>
#include "mpconfigboard.h"

// A rich but file-system-free Python: the application needs bytes/memoryview, big ints,
// async/await, f-strings, struct, collections; no VFS, no extmod (not in the fetched core).
#define MICROPY_CONFIG_ROM_LEVEL            (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

#define MICROPY_ENABLE_COMPILER             (1)
#define MICROPY_ENABLE_GC                   (1)
#define MICROPY_LONGINT_IMPL                (MICROPY_LONGINT_IMPL_MPZ)
#define MPZ_DIG_SIZE                        (32)   // matches mpy-tool's -mmpz-dig-size=32
#ifndef MICROPY_FLOAT_IMPL
#define MICROPY_FLOAT_IMPL                  (MICROPY_FLOAT_IMPL_DOUBLE)
#endif
#define MICROPY_HELPER_REPL                 (1)
#define MICROPY_REPL_AUTO_INDENT            (1)
#define MICROPY_KBD_EXCEPTION               (1)
#define MICROPY_ENABLE_SCHEDULER            (1)
#define MICROPY_PY_BUILTINS_INPUT           (1)
#define MICROPY_PY_SYS_STDFILES             (0)
#define MICROPY_PY_SYS_STDIO_BUFFER         (0)
#define MICROPY_PY_SYS_PLATFORM             "o3storage"
#define MICROPY_PY_SYS_EXIT                 (1)
#define MICROPY_PY_MICROPYTHON_MEM_INFO     (1)
#define MICROPY_PY_GC                       (1)
#define MICROPY_PY_IO                       (1)
#define MICROPY_PY_IO_IOBASE                (0)
#define MICROPY_PY_OS_DUPTERM               (0)
#define MICROPY_PY_UCTYPES                  (0)   // extmod, not in the fetched core
#define MICROPY_ERROR_REPORTING             (MICROPY_ERROR_REPORTING_NORMAL)
#define MICROPY_WARNINGS                    (1)
#define MICROPY_STACK_CHECK                 (1)
#define MICROPY_ALLOC_PATH_MAX              (256)
#define MICROPY_USE_INTERNAL_PRINTF         (0)
#define MICROPY_GCREGS_SETJMP               (0)
#define MICROPY_NLR_SETJMP                  (0)
// Needed for frozen modules too; the appliance's mp_import_stat finds no files.
#define MICROPY_ENABLE_EXTERNAL_IMPORT      (1)
#define MICROPY_READER_POSIX                (0)
#define MICROPY_VFS                         (0)
#define MICROPY_PY_BUILTINS_HELP            (1)
#define MICROPY_PY_BUILTINS_HELP_TEXT       o3s_help_text

// Poll the console from the VM so Ctrl-C reaches Python while it runs.
#define MICROPY_VM_HOOK_COUNT               (64)
#define MICROPY_VM_HOOK_INIT                static unsigned int vm_hook_divisor = MICROPY_VM_HOOK_COUNT;
#define MICROPY_VM_HOOK_POLL                if (--vm_hook_divisor == 0) { \
        vm_hook_divisor = MICROPY_VM_HOOK_COUNT; \
        o3s_console_poll(); \
}
#define MICROPY_VM_HOOK_LOOP                MICROPY_VM_HOOK_POLL
#define MICROPY_VM_HOOK_RETURN              MICROPY_VM_HOOK_POLL
#define MICROPY_EVENT_POLL_HOOK             do { \
        extern void mp_handle_pending(bool); \
        mp_handle_pending(true); \
        o3s_console_poll(); \
        board_idle(); \
} while (0);

void o3s_console_poll(void);
void board_idle(void);
extern const char o3s_help_text[];

// Types: every target is a 64-bit machine.
#define MP_SSIZE_MAX                        (0x7fffffffffffffff)
#define UINT_FMT                            "%lu"
#define INT_FMT                             "%ld"
typedef int64_t mp_int_t;
typedef uint64_t mp_uint_t;
typedef long mp_off_t;

#define MICROPY_HW_MCU_SYSTEM               MICROPY_HW_MCU_NAME
#define MP_STATE_PORT                       MP_STATE_VM

#include <alloca.h>
