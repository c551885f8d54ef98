// _clock: monotonic time for timeouts and benchmarks, wall time for HTTP dates and SigV4.
#include "py/runtime.h"
#include "py/mphal.h"
#include "board.h"

static mp_obj_t clock_ticks_ms(void) {
    return mp_obj_new_int_from_ull(board_ticks_us() / 1000);
}
static MP_DEFINE_CONST_FUN_OBJ_0(clock_ticks_ms_obj, clock_ticks_ms);

static mp_obj_t clock_ticks_us(void) {
    return mp_obj_new_int_from_ull(board_ticks_us());
}
static MP_DEFINE_CONST_FUN_OBJ_0(clock_ticks_us_obj, clock_ticks_us);

// Unix seconds from the board's real-time clock (0 when it has none).
static mp_obj_t clock_time(void) {
    return mp_obj_new_int_from_ll(board_wall_time_s());
}
static MP_DEFINE_CONST_FUN_OBJ_0(clock_time_obj, clock_time);

// Blocking sleep that still polls the console (Ctrl-C) and pending callbacks.
static mp_obj_t clock_sleep_ms(mp_obj_t ms_in) {
    mp_int_t ms = mp_obj_get_int(ms_in);
    if (ms > 0) {
        mp_hal_delay_ms(ms);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(clock_sleep_ms_obj, clock_sleep_ms);

static const mp_rom_map_elem_t clock_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__clock) },
    { MP_ROM_QSTR(MP_QSTR_ticks_ms), MP_ROM_PTR(&clock_ticks_ms_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_us), MP_ROM_PTR(&clock_ticks_us_obj) },
    { MP_ROM_QSTR(MP_QSTR_time), MP_ROM_PTR(&clock_time_obj) },
    { MP_ROM_QSTR(MP_QSTR_sleep_ms), MP_ROM_PTR(&clock_sleep_ms_obj) },
};
static MP_DEFINE_CONST_DICT(clock_module_globals, clock_module_globals_table);

const mp_obj_module_t o3s_clock_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&clock_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR__clock, o3s_clock_module);
