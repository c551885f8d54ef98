// _blk: sector I/O on the node's disk, over the board's blk.h (same module on every target).
//   open(path_or_index, readonly=False) -> device; create(path, size_bytes) (unix: sparse file)
//   device.sector_size, .size() -> bytes, .read(offset, buf) fills a writable buffer,
//   .write(offset, buf), .flush() (durable when it returns), .close(); also a context manager.
// Misaligned or out-of-range I/O raises OSError(EINVAL) here, before the board sees it;
// writing a read-only device raises OSError(EROFS); any use after close() OSError(EBADF).
#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/gc.h"

#include "blk.h"

typedef struct {
    mp_obj_base_t base;
    int h;   // board handle, -1 once closed
    bool readonly;
    uint32_t sector;
    uint64_t capacity;
} blk_obj_t;

static void check(int r) {
    if (r < 0) {
        mp_raise_OSError(-r);
    }
}

static blk_obj_t *live(mp_obj_t self_in) {
    blk_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->h < 0) {
        mp_raise_OSError(MP_EBADF);
    }
    return self;
}

// Any int: arithmetic on a big int stays a big-int object in MicroPython even when the
// value is small (size() - 1024 can be one), so accept both; past 2^63 is past any disk.
static uint64_t get_offset(mp_obj_t o) {
    if (!mp_obj_is_int(o)) {
        mp_obj_get_int(o);   // raises the usual TypeError
    }
    if (!mp_obj_is_small_int(o)) {
        mp_int_t big = -1;
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {   // past 2^63 raises OverflowError: that's EINVAL here
            big = mp_obj_int_get_checked(o);
            nlr_pop();
        }
        if (big < 0) {
            mp_raise_OSError(MP_EINVAL);
        }
        return big;
    }
    mp_int_t v = MP_OBJ_SMALL_INT_VALUE(o);
    if (v < 0) {
        mp_raise_OSError(MP_EINVAL);
    }
    return v;
}

static void check_range(blk_obj_t *self, uint64_t offset, size_t len) {
    if (offset % self->sector || len % self->sector
        || offset > self->capacity || len > self->capacity - offset) {
        mp_raise_OSError(MP_EINVAL);
    }
}

static mp_obj_t blk_dev_read(mp_obj_t self_in, mp_obj_t offset_in, mp_obj_t buf_in) {
    blk_obj_t *self = live(self_in);
    uint64_t offset = get_offset(offset_in);
    mp_buffer_info_t b;
    mp_get_buffer_raise(buf_in, &b, MP_BUFFER_WRITE);
    check_range(self, offset, b.len);
    if (b.len) {
        check(blk_read(self->h, offset, b.buf, b.len));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(blk_dev_read_obj, blk_dev_read);

static mp_obj_t blk_dev_write(mp_obj_t self_in, mp_obj_t offset_in, mp_obj_t buf_in) {
    blk_obj_t *self = live(self_in);
    uint64_t offset = get_offset(offset_in);
    mp_buffer_info_t b;
    mp_get_buffer_raise(buf_in, &b, MP_BUFFER_READ);
    if (self->readonly) {
        mp_raise_OSError(MP_EROFS);
    }
    check_range(self, offset, b.len);
    if (b.len) {
        check(blk_write(self->h, offset, b.buf, b.len));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(blk_dev_write_obj, blk_dev_write);

static mp_obj_t blk_dev_flush(mp_obj_t self_in) {
    blk_obj_t *self = live(self_in);
    if (!self->readonly) {
        check(blk_flush(self->h));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(blk_dev_flush_obj, blk_dev_flush);

static mp_obj_t blk_dev_size(mp_obj_t self_in) {
    return mp_obj_new_int_from_ull(live(self_in)->capacity);
}
static MP_DEFINE_CONST_FUN_OBJ_1(blk_dev_size_obj, blk_dev_size);

// Idempotent: also the finaliser, so a dropped device does not leak its file descriptor.
static mp_obj_t blk_dev_close(mp_obj_t self_in) {
    blk_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->h >= 0) {
        blk_close(self->h);
        self->h = -1;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(blk_dev_close_obj, blk_dev_close);

static mp_obj_t blk_dev_exit(size_t n_args, const mp_obj_t *args) {
    return blk_dev_close(args[0]);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(blk_dev_exit_obj, 4, 4, blk_dev_exit);

static void blk_dev_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    blk_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;   // read-only
    }
    if (attr == MP_QSTR_sector_size) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->sector);
    } else if (attr == MP_QSTR_readonly) {
        dest[0] = mp_obj_new_bool(self->readonly);
    } else {
        dest[1] = MP_OBJ_SENTINEL;
    }
}

static const mp_rom_map_elem_t blk_dev_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&blk_dev_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&blk_dev_write_obj) },
    { MP_ROM_QSTR(MP_QSTR_flush), MP_ROM_PTR(&blk_dev_flush_obj) },
    { MP_ROM_QSTR(MP_QSTR_size), MP_ROM_PTR(&blk_dev_size_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&blk_dev_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&blk_dev_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj) },
    { MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&blk_dev_exit_obj) },
};
static MP_DEFINE_CONST_DICT(blk_dev_locals, blk_dev_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(blk_dev_type, MP_QSTR_BlockDevice, MP_TYPE_FLAG_NONE,
    attr, blk_dev_attr, locals_dict, &blk_dev_locals);

static mp_obj_t blk_open_fn(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    enum { ARG_dev, ARG_readonly };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_dev, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_readonly, MP_ARG_BOOL, {.u_bool = false} },
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos, kw, MP_ARRAY_SIZE(allowed), allowed, a);
    int flags = a[ARG_readonly].u_bool ? BLK_READONLY : 0;
    const char *path = NULL;
    mp_int_t index = -1;
    if (mp_obj_is_int(a[ARG_dev].u_obj)) {
        index = mp_obj_get_int(a[ARG_dev].u_obj);
        if (index < 0) {
            mp_raise_OSError(MP_ENODEV);
        }
    } else {
        path = mp_obj_str_get_str(a[ARG_dev].u_obj);
    }
    int h = blk_open(path, index, flags);
    if (h == -MP_EMFILE) {
        // Devices dropped without close() hold board slots until their finaliser runs.
        gc_collect();
        h = blk_open(path, index, flags);
    }
    check(h);
    blk_obj_t *o = mp_obj_malloc_with_finaliser(blk_obj_t, &blk_dev_type);
    o->h = h;
    o->readonly = flags & BLK_READONLY;
    o->sector = blk_sector_size(h);
    o->capacity = blk_capacity(h);
    return MP_OBJ_FROM_PTR(o);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(blk_open_obj, 1, blk_open_fn);

static mp_obj_t blk_create_fn(mp_obj_t path_in, mp_obj_t size_in) {
    uint64_t size = get_offset(size_in);
    if (size % 512) {
        mp_raise_OSError(MP_EINVAL);
    }
    check(blk_create(mp_obj_str_get_str(path_in), size));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(blk_create_obj, blk_create_fn);

static const mp_rom_map_elem_t blk_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__blk) },
    { MP_ROM_QSTR(MP_QSTR_open), MP_ROM_PTR(&blk_open_obj) },
    { MP_ROM_QSTR(MP_QSTR_create), MP_ROM_PTR(&blk_create_obj) },
    { MP_ROM_QSTR(MP_QSTR_BlockDevice), MP_ROM_PTR(&blk_dev_type) },
    { MP_ROM_QSTR(MP_QSTR_SECTOR), MP_ROM_INT(512) },
};
static MP_DEFINE_CONST_DICT(blk_module_globals, blk_module_globals_table);

const mp_obj_module_t o3s_blk_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&blk_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR__blk, o3s_blk_module);
