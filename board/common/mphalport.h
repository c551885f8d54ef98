// HAL inlines MicroPython's core and shared/ code expect from a port.
#include <stdint.h>
#include "shared/runtime/interrupt_char.h"

#define mp_hal_pin_obj_t int   // 1.23 wants it even without machine.Pin (a macro: mphal.h tests #ifndef)

mp_uint_t mp_hal_ticks_ms(void);
mp_uint_t mp_hal_ticks_us(void);
mp_uint_t mp_hal_ticks_cpu(void);
uint64_t mp_hal_time_ns(void);
void mp_hal_delay_ms(mp_uint_t ms);
void mp_hal_delay_us(mp_uint_t us);
