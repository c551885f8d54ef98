// The port's main loop, shared by every target: start the VM, run the frozen
// application (o3s/__main__.py), and on Ctrl-C give the operator a maintenance shell.
#include <string.h>

#include "py/builtin.h"
#include "py/compile.h"
#include "py/mphal.h"
#include "py/gc.h"
#include "py/mperrno.h"
#include "py/runtime.h"
#include "py/stackctrl.h"
#include "shared/readline/readline.h"
#include "shared/runtime/gchelper.h"
#include "shared/runtime/pyexec.h"
#include "board.h"

const char o3s_help_text[] =
    "O3Storage maintenance shell (MicroPython).\n"
    "  poweroff()   stop the node\n"
    "  reboot()     restart the application (Ctrl-D does the same)\n"
    "  selftest()   run the interpreter self-test\n";

static char *stack_top;

#if O3S_SCRIPT_MODE
// `--script FILE [ARGS]` runs a host file instead of the application (development and
// MicroPython-side tests of the firmware's Python); the exit status tells how it went.
static void run_script_mode(void) {
    const char **argv;
    size_t argc = board_args(&argv);
    if (argc < 2 || strcmp(argv[0], "--script") != 0) {
        return;
    }
    extern int o3s_external_import;
    o3s_external_import = 1;
    for (size_t i = 1; i < argc; i++) {
        mp_obj_list_append(mp_sys_argv, mp_obj_new_str(argv[i], strlen(argv[i])));
    }
    const char *slash = strrchr(argv[1], '/');
    if (slash) {
        mp_obj_list_store(mp_sys_path, MP_OBJ_NEW_SMALL_INT(0), mp_obj_new_str(argv[1], slash - argv[1]));
    }
    // Run it ourselves rather than through pyexec, so sys.exit(n) becomes the exit status.
    int status = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_lexer_t *lex = mp_lexer_new_from_file(qstr_from_str(argv[1]));
        qstr source_name = lex->source_name;
        mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t fun = mp_compile(&tree, source_name, false);
        mp_call_function_0(fun);
        nlr_pop();
    } else {
        mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
        if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)), MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
            mp_obj_t code = mp_obj_exception_get_value(exc);
            status = code == mp_const_none ? 0 : mp_obj_is_int(code) ? mp_obj_get_int(code) : 1;
        } else {
            mp_obj_print_exception(&mp_plat_print, exc);
            status = 1;
        }
    }
    board_poweroff(status);
}
#endif

void o3s_port_main(void) {
    int stack_dummy;
    stack_top = (char *)&stack_dummy;
    board_init();

    void *heap;
    size_t heap_size;
    board_heap(&heap, &heap_size);
    gc_init(heap, (char *)heap + heap_size);

    for (;;) {
        mp_stack_set_top(stack_top);
        mp_stack_set_limit(O3S_STACK_SIZE - 32 * 1024);
        mp_init();
        readline_init0();
        mp_hal_set_interrupt_char(3);
        #if O3S_SCRIPT_MODE
        run_script_mode();
        #endif

        // The application returns when the operator interrupts it (Ctrl-C).
        int ret = pyexec_frozen_module("o3s/__main__.py", true);
        if (ret & PYEXEC_FORCED_EXIT) {
            mp_deinit();
            board_poweroff(ret & 0xff);
        }
        pyexec_frozen_module("o3s/shell.py", false);
        // Ctrl-D (or sys.exit()) leaves the shell and restarts the application; only
        // poweroff() stops the node.
        pyexec_system_exit = PYEXEC_FORCED_EXIT;
        pyexec_friendly_repl();
        mp_deinit();
        mp_hal_stdout_tx_str("INFO  shell: restarting the application\r\n");
    }
}

void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
}

void nlr_jump_fail(void *val) {
    (void)val;
    mp_hal_stdout_tx_str("FATAL uncaught exception outside Python; powering off\r\n");
    board_poweroff(70);
}

void NORETURN __fatal_error(const char *msg) {
    mp_hal_stdout_tx_str("FATAL ");
    mp_hal_stdout_tx_str(msg);
    mp_hal_stdout_tx_str("\r\n");
    board_poweroff(70);
}

#ifndef NDEBUG
void MP_WEAK __assert_func(const char *file, int line, const char *func, const char *expr) {
    (void)line;
    (void)func;
    mp_hal_stdout_tx_str("FATAL assertion failed: ");
    mp_hal_stdout_tx_str(expr);
    mp_hal_stdout_tx_str(" in ");
    mp_hal_stdout_tx_str(file);
    mp_hal_stdout_tx_str("\r\n");
    board_poweroff(70);
}
#endif

#if !O3S_SCRIPT_MODE
// No file system on the appliance: everything importable is frozen (frozen modules are
// found through the importer's ".frozen" path before it asks mp_import_stat).
mp_lexer_t *mp_lexer_new_from_file(qstr filename) {
    mp_raise_OSError(MP_ENOENT);
}

mp_import_stat_t mp_import_stat(const char *path) {
    (void)path;
    return MP_IMPORT_STAT_NO_EXIST;
}
#endif

mp_obj_t mp_builtin_open(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    mp_raise_OSError(MP_ENOENT);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mp_builtin_open_obj, 1, mp_builtin_open);
