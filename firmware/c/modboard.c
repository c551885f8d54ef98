// _board: what the application may ask of the machine it runs on (start-up words,
// identity for the banner, memory, power).
#include <string.h>

#include "py/runtime.h"
#include "py/gc.h"
#include "board.h"

static mp_obj_t board_args_fn(void) {
    const char **argv;
    size_t n = board_args(&argv);
    mp_obj_t list = mp_obj_new_list(0, NULL);
    for (size_t i = 0; i < n; i++) {
        mp_obj_list_append(list, mp_obj_new_str(argv[i], strlen(argv[i])));
    }
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_args_obj, board_args_fn);

static mp_obj_t board_target_fn(void) {
    return mp_obj_new_str(board_target(), strlen(board_target()));
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_target_obj, board_target_fn);

static mp_obj_t board_cpu_fn(void) {
    return mp_obj_new_str(board_cpu(), strlen(board_cpu()));
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_cpu_obj, board_cpu_fn);

static mp_obj_t board_ram_fn(void) {
    return mp_obj_new_int_from_ull(board_ram_bytes());
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_ram_obj, board_ram_fn);

// Bytes the GC manages: cheap (the banner shows it).
static mp_obj_t board_heap_size_fn(void) {
    void *start;
    size_t size;
    board_heap(&start, &size);
    return mp_obj_new_int_from_uint(size);
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_heap_size_obj, board_heap_size_fn);

// (heap bytes, bytes in use, bytes free) from the GC. Walks every block: ~0.8 s per GB
// of heap under TCG, so not for every request.
static mp_obj_t board_heap_fn(void) {
    gc_info_t info;
    gc_info(&info);
    mp_obj_t t[3] = {
        mp_obj_new_int_from_uint(info.total),
        mp_obj_new_int_from_uint(info.used),
        mp_obj_new_int_from_uint(info.free),
    };
    return mp_obj_new_tuple(3, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_heap_obj, board_heap_fn);

static mp_obj_t board_poweroff_fn(size_t n_args, const mp_obj_t *args) {
    int code = n_args ? mp_obj_get_int(args[0]) : 0;
    board_poweroff(code);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(board_poweroff_obj, 0, 1, board_poweroff_fn);

static mp_obj_t board_idle_fn(void) {
    MICROPY_EVENT_POLL_HOOK
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(board_idle_obj, board_idle_fn);

static const mp_rom_map_elem_t board_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__board) },
    { MP_ROM_QSTR(MP_QSTR_args), MP_ROM_PTR(&board_args_obj) },
    { MP_ROM_QSTR(MP_QSTR_target), MP_ROM_PTR(&board_target_obj) },
    { MP_ROM_QSTR(MP_QSTR_cpu), MP_ROM_PTR(&board_cpu_obj) },
    { MP_ROM_QSTR(MP_QSTR_ram), MP_ROM_PTR(&board_ram_obj) },
    { MP_ROM_QSTR(MP_QSTR_heap), MP_ROM_PTR(&board_heap_obj) },
    { MP_ROM_QSTR(MP_QSTR_heap_size), MP_ROM_PTR(&board_heap_size_obj) },
    { MP_ROM_QSTR(MP_QSTR_poweroff), MP_ROM_PTR(&board_poweroff_obj) },
    { MP_ROM_QSTR(MP_QSTR_idle), MP_ROM_PTR(&board_idle_obj) },
};
static MP_DEFINE_CONST_DICT(board_module_globals, board_module_globals_table);

const mp_obj_module_t o3s_board_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&board_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR__board, o3s_board_module);
