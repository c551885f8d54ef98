// _hash: the digests the object log and the S3 layer need, one C call per buffer.
//   blake3([data]), sha256([data]), sha1([data]), md5([data]): incremental objects with update(buf),
//     digest(), hexdigest(), copy(); blake3's digest/hexdigest take an optional length (XOF).
//     digest() does not end the object: more update() calls may follow, and digest() then
//     covers everything so far (as hashlib's does).
//   hmac_sha256(key, msg) -> 32 bytes; hmac_sha1(key, msg) -> 20 bytes (S3 signature version 2).
//   crc32(data, crc=0), crc32c(data, crc=0) -> int; pass the previous value to continue
//     (zlib.crc32 convention).
// BLAKE3 is the official C code, SHA-256/SHA-1/MD5 are mbedTLS (firmware/c/hash.mk); the CRCs are
// ours: slice-by-8 tables, or the CPU's CRC instructions where it has them.
#include <string.h>

#include "py/runtime.h"
#include "py/objstr.h"

#include "blake3.h"
#include "mbedtls/md5.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"

// ---------------------------------------------------------------------------------------
// One object layout and one set of methods for every digest; an algo table says how.

typedef struct {
    size_t ctx_size;
    size_t digest_size;
    size_t block_size;
    bool xof;   // digest(length) allowed
    void (*init)(void *ctx);
    void (*update)(void *ctx, const uint8_t *p, size_t n);
    // Must not disturb ctx: digest() may be followed by more updates.
    void (*final)(const void *ctx, uint8_t *out, size_t n);
} hash_algo_t;

typedef struct {
    mp_obj_base_t base;
    const hash_algo_t *algo;
    uint64_t ctx[];   // uint64_t for alignment; holds the algorithm's context
} hash_obj_t;

static void b3_init(void *ctx) {
    blake3_hasher_init(ctx);
}
static void b3_update(void *ctx, const uint8_t *p, size_t n) {
    blake3_hasher_update(ctx, p, n);
}
static void b3_final(const void *ctx, uint8_t *out, size_t n) {
    blake3_hasher_finalize(ctx, out, n);
}

static void sha256_init(void *ctx) {
    mbedtls_sha256_init(ctx);
    mbedtls_sha256_starts_ret(ctx, 0);
}
static void sha256_update(void *ctx, const uint8_t *p, size_t n) {
    mbedtls_sha256_update_ret(ctx, p, n);
}
static void sha256_final(const void *ctx, uint8_t *out, size_t n) {
    mbedtls_sha256_context tmp;
    mbedtls_sha256_clone(&tmp, ctx);
    mbedtls_sha256_finish_ret(&tmp, out);
}

static void sha1_init(void *ctx) {
    mbedtls_sha1_init(ctx);
    mbedtls_sha1_starts_ret(ctx);
}
static void sha1_update(void *ctx, const uint8_t *p, size_t n) {
    mbedtls_sha1_update_ret(ctx, p, n);
}
static void sha1_final(const void *ctx, uint8_t *out, size_t n) {
    mbedtls_sha1_context tmp;
    mbedtls_sha1_clone(&tmp, ctx);
    mbedtls_sha1_finish_ret(&tmp, out);
}

static void md5_init(void *ctx) {
    mbedtls_md5_init(ctx);
    mbedtls_md5_starts_ret(ctx);
}
static void md5_update(void *ctx, const uint8_t *p, size_t n) {
    mbedtls_md5_update_ret(ctx, p, n);
}
static void md5_final(const void *ctx, uint8_t *out, size_t n) {
    mbedtls_md5_context tmp;
    mbedtls_md5_clone(&tmp, ctx);
    mbedtls_md5_finish_ret(&tmp, out);
}

static const hash_algo_t algo_blake3 = {
    sizeof(blake3_hasher), BLAKE3_OUT_LEN, BLAKE3_BLOCK_LEN, true, b3_init, b3_update, b3_final,
};
static const hash_algo_t algo_sha256 = {
    sizeof(mbedtls_sha256_context), 32, 64, false, sha256_init, sha256_update, sha256_final,
};
static const hash_algo_t algo_sha1 = {
    sizeof(mbedtls_sha1_context), 20, 64, false, sha1_init, sha1_update, sha1_final,
};
static const hash_algo_t algo_md5 = {
    sizeof(mbedtls_md5_context), 16, 64, false, md5_init, md5_update, md5_final,
};

static const mp_obj_type_t hash_blake3_type, hash_sha256_type, hash_sha1_type, hash_md5_type;

static hash_obj_t *hash_alloc(const mp_obj_type_t *type, const hash_algo_t *algo) {
    hash_obj_t *o = mp_obj_malloc_var(hash_obj_t, ctx, uint64_t, (algo->ctx_size + 7) / 8, type);
    o->algo = algo;
    return o;
}

static mp_obj_t hash_update(mp_obj_t self_in, mp_obj_t data) {
    hash_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t b;
    mp_get_buffer_raise(data, &b, MP_BUFFER_READ);
    self->algo->update(self->ctx, b.buf, b.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(hash_update_obj, hash_update);

static mp_obj_t hash_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 1, false);
    const hash_algo_t *algo = type == &hash_blake3_type ? &algo_blake3
        : type == &hash_sha256_type ? &algo_sha256
        : type == &hash_sha1_type ? &algo_sha1 : &algo_md5;
    hash_obj_t *o = hash_alloc(type, algo);
    algo->init(o->ctx);
    if (n_args == 1 && args[0] != mp_const_none) {
        hash_update(MP_OBJ_FROM_PTR(o), args[0]);
    }
    return MP_OBJ_FROM_PTR(o);
}

// Output length: the digest size, or for an XOF the optional argument.
static size_t hash_out_len(hash_obj_t *self, size_t n_args, const mp_obj_t *args) {
    if (n_args < 2) {
        return self->algo->digest_size;
    }
    if (!self->algo->xof) {
        mp_raise_TypeError(MP_ERROR_TEXT("fixed-length digest"));
    }
    mp_int_t n = mp_obj_get_int(args[1]);
    if (n < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("negative length"));
    }
    return n;
}

static mp_obj_t hash_digest(size_t n_args, const mp_obj_t *args) {
    hash_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    size_t n = hash_out_len(self, n_args, args);
    vstr_t v;
    vstr_init_len(&v, n);
    self->algo->final(self->ctx, (uint8_t *)v.buf, n);
    return mp_obj_new_bytes_from_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hash_digest_obj, 1, 2, hash_digest);

static mp_obj_t hash_hexdigest(size_t n_args, const mp_obj_t *args) {
    hash_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    size_t n = hash_out_len(self, n_args, args);
    vstr_t v;
    vstr_init_len(&v, 2 * n);
    // Digest into the back half, then expand to hex front to back (never overtakes it).
    uint8_t *raw = (uint8_t *)v.buf + n;
    self->algo->final(self->ctx, raw, n);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        uint8_t c = raw[i];
        v.buf[2 * i] = hex[c >> 4];
        v.buf[2 * i + 1] = hex[c & 15];
    }
    return mp_obj_new_str_from_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hash_hexdigest_obj, 1, 2, hash_hexdigest);

// The contexts are plain structs (no pointers), so a byte copy is a faithful clone.
static mp_obj_t hash_copy(mp_obj_t self_in) {
    hash_obj_t *self = MP_OBJ_TO_PTR(self_in);
    hash_obj_t *o = hash_alloc(self->base.type, self->algo);
    memcpy(o->ctx, self->ctx, self->algo->ctx_size);
    return MP_OBJ_FROM_PTR(o);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hash_copy_obj, hash_copy);

static void hash_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return;   // read-only
    }
    hash_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (attr == MP_QSTR_digest_size) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->algo->digest_size);
    } else if (attr == MP_QSTR_block_size) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->algo->block_size);
    } else {
        dest[1] = MP_OBJ_SENTINEL;   // continue lookup in locals_dict
    }
}

static const mp_rom_map_elem_t hash_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_update), MP_ROM_PTR(&hash_update_obj) },
    { MP_ROM_QSTR(MP_QSTR_digest), MP_ROM_PTR(&hash_digest_obj) },
    { MP_ROM_QSTR(MP_QSTR_hexdigest), MP_ROM_PTR(&hash_hexdigest_obj) },
    { MP_ROM_QSTR(MP_QSTR_copy), MP_ROM_PTR(&hash_copy_obj) },
};
static MP_DEFINE_CONST_DICT(hash_locals, hash_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(hash_blake3_type, MP_QSTR_blake3, MP_TYPE_FLAG_NONE,
    make_new, hash_make_new, attr, hash_attr, locals_dict, &hash_locals);
static MP_DEFINE_CONST_OBJ_TYPE(hash_sha256_type, MP_QSTR_sha256, MP_TYPE_FLAG_NONE,
    make_new, hash_make_new, attr, hash_attr, locals_dict, &hash_locals);
static MP_DEFINE_CONST_OBJ_TYPE(hash_sha1_type, MP_QSTR_sha1, MP_TYPE_FLAG_NONE,
    make_new, hash_make_new, attr, hash_attr, locals_dict, &hash_locals);
static MP_DEFINE_CONST_OBJ_TYPE(hash_md5_type, MP_QSTR_md5, MP_TYPE_FLAG_NONE,
    make_new, hash_make_new, attr, hash_attr, locals_dict, &hash_locals);

// ---------------------------------------------------------------------------------------
// HMAC (RFC 2104) straight over a digest's context: no allocation, no md.c.

typedef union {
    mbedtls_sha256_context sha256;
    mbedtls_sha1_context sha1;
} hmac_ctx_t;

static mp_obj_t hmac(const hash_algo_t *algo, mp_obj_t key_in, mp_obj_t msg_in) {
    mp_buffer_info_t key, msg;
    mp_get_buffer_raise(key_in, &key, MP_BUFFER_READ);
    mp_get_buffer_raise(msg_in, &msg, MP_BUFFER_READ);
    size_t bs = algo->block_size, ds = algo->digest_size;
    uint8_t k[64] = {0}, pad[64], out[32];
    hmac_ctx_t c;
    if (key.len > bs) {   // long keys are hashed first
        algo->init(&c);
        algo->update(&c, key.buf, key.len);
        algo->final(&c, k, ds);
    } else {
        memcpy(k, key.buf, key.len);
    }
    for (size_t i = 0; i < bs; i++) {
        pad[i] = k[i] ^ 0x36;
    }
    algo->init(&c);
    algo->update(&c, pad, bs);
    algo->update(&c, msg.buf, msg.len);
    algo->final(&c, out, ds);
    for (size_t i = 0; i < bs; i++) {
        pad[i] = k[i] ^ 0x5c;
    }
    algo->init(&c);
    algo->update(&c, pad, bs);
    algo->update(&c, out, ds);
    algo->final(&c, out, ds);
    return mp_obj_new_bytes(out, ds);
}

static mp_obj_t hash_hmac_sha256(mp_obj_t key_in, mp_obj_t msg_in) {
    return hmac(&algo_sha256, key_in, msg_in);
}
static mp_obj_t hash_hmac_sha1(mp_obj_t key_in, mp_obj_t msg_in) {
    return hmac(&algo_sha1, key_in, msg_in);
}
static MP_DEFINE_CONST_FUN_OBJ_2(hash_hmac_sha1_obj, hash_hmac_sha1);
static MP_DEFINE_CONST_FUN_OBJ_2(hash_hmac_sha256_obj, hash_hmac_sha256);

// ---------------------------------------------------------------------------------------
// CRC-32 (zlib/IEEE, reflected 0xEDB88320) and CRC-32C (Castagnoli, reflected 0x82F63B78).
// Both targets are little-endian, which the slice-by-8 loads below rely on.

#define POLY_CRC32  0xEDB88320u
#define POLY_CRC32C 0x82F63B78u

// Built on first use: 16 KB of BSS beats 16 KB of table text in the source.
static uint32_t tab_crc32[8][256], tab_crc32c[8][256];

static void crc_table(uint32_t t[8][256], uint32_t poly) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (poly & (0u - (c & 1)));
        }
        t[0][i] = c;
    }
    for (int j = 1; j < 8; j++) {
        for (int i = 0; i < 256; i++) {
            t[j][i] = (t[j - 1][i] >> 8) ^ t[0][t[j - 1][i] & 0xff];
        }
    }
}

static uint32_t load32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

// c is the working register (already inverted).
static uint32_t crc_slice8(const uint32_t t[8][256], uint32_t c, const uint8_t *p, size_t n) {
    while (n >= 8) {
        uint32_t lo = c ^ load32(p), hi = load32(p + 4);
        c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24]
            ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) {
        c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    }
    return c;
}

typedef uint32_t (*crc_fn_t)(uint32_t c, const uint8_t *p, size_t n);

static uint32_t crc32_sw(uint32_t c, const uint8_t *p, size_t n) {
    return crc_slice8(tab_crc32, c, p, n);
}
static uint32_t crc32c_sw(uint32_t c, const uint8_t *p, size_t n) {
    return crc_slice8(tab_crc32c, c, p, n);
}

#if defined(__x86_64__)
// SSE4.2 has CRC-32C only (its crc32 instruction is Castagnoli); zlib's CRC stays in software.
#include <cpuid.h>
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t c, const uint8_t *p, size_t n) {
    uint64_t c64 = c;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
    }
    c = (uint32_t)c64;
    while (n--) {
        c = __builtin_ia32_crc32qi(c, *p++);
    }
    return c;
}
static bool cpu_has_crc32c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
}
#define HAVE_HW_CRC32C 1
#elif defined(__aarch64__)
// The Armv8 CRC32 extension has both polynomials.
__attribute__((target("+crc")))
static uint32_t crc32_hw(uint32_t c, const uint8_t *p, size_t n) {
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_aarch64_crc32x(c, v);
    }
    while (n--) {
        c = __builtin_aarch64_crc32b(c, *p++);
    }
    return c;
}
__attribute__((target("+crc")))
static uint32_t crc32c_hw(uint32_t c, const uint8_t *p, size_t n) {
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_aarch64_crc32cx(c, v);
    }
    while (n--) {
        c = __builtin_aarch64_crc32cb(c, *p++);
    }
    return c;
}
// Optional in Armv8.0, so ask the CPU (ID_AA64ISAR0_EL1.CRC32, bits 19:16) rather than trust -mcpu.
static bool cpu_has_crc32c(void) {
    uint64_t isar0;
    __asm__ volatile ("mrs %0, id_aa64isar0_el1" : "=r" (isar0));
    return ((isar0 >> 16) & 0xf) != 0;
}
#define HAVE_HW_CRC32 1
#define HAVE_HW_CRC32C 1
#endif

static crc_fn_t crc32_impl, crc32c_impl;

static void crc_setup(void) {
    crc_table(tab_crc32, POLY_CRC32);
    crc_table(tab_crc32c, POLY_CRC32C);
    crc32_impl = crc32_sw;
    crc32c_impl = crc32c_sw;
    #if HAVE_HW_CRC32C
    if (cpu_has_crc32c()) {
        crc32c_impl = crc32c_hw;
        #if HAVE_HW_CRC32
        crc32_impl = crc32_hw;
        #endif
    }
    #endif
}

static mp_obj_t crc_call(crc_fn_t *impl, size_t n_args, const mp_obj_t *args) {
    if (*impl == NULL) {
        crc_setup();
    }
    mp_buffer_info_t b;
    mp_get_buffer_raise(args[0], &b, MP_BUFFER_READ);
    uint32_t c = n_args > 1 ? (uint32_t)mp_obj_get_int_truncated(args[1]) : 0;
    c = ~(*impl)(~c, b.buf, b.len);
    return mp_obj_new_int_from_uint(c);
}

static mp_obj_t hash_crc32(size_t n_args, const mp_obj_t *args) {
    return crc_call(&crc32_impl, n_args, args);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hash_crc32_obj, 1, 2, hash_crc32);

static mp_obj_t hash_crc32c(size_t n_args, const mp_obj_t *args) {
    return crc_call(&crc32c_impl, n_args, args);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hash_crc32c_obj, 1, 2, hash_crc32c);

// Which implementations were picked, for the banner and benchmarks.
static mp_obj_t hash_impl(void) {
    if (crc32_impl == NULL) {
        crc_setup();
    }
    mp_obj_t items[2] = {
        MP_OBJ_NEW_QSTR(crc32_impl == crc32_sw ? MP_QSTR_table : MP_QSTR_cpu),
        MP_OBJ_NEW_QSTR(crc32c_impl == crc32c_sw ? MP_QSTR_table : MP_QSTR_cpu),
    };
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_0(hash_impl_obj, hash_impl);

static const mp_rom_map_elem_t hash_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__hash) },
    { MP_ROM_QSTR(MP_QSTR_blake3), MP_ROM_PTR(&hash_blake3_type) },
    { MP_ROM_QSTR(MP_QSTR_sha256), MP_ROM_PTR(&hash_sha256_type) },
    { MP_ROM_QSTR(MP_QSTR_sha1), MP_ROM_PTR(&hash_sha1_type) },
    { MP_ROM_QSTR(MP_QSTR_md5), MP_ROM_PTR(&hash_md5_type) },
    { MP_ROM_QSTR(MP_QSTR_hmac_sha256), MP_ROM_PTR(&hash_hmac_sha256_obj) },
    { MP_ROM_QSTR(MP_QSTR_hmac_sha1), MP_ROM_PTR(&hash_hmac_sha1_obj) },
    { MP_ROM_QSTR(MP_QSTR_crc32), MP_ROM_PTR(&hash_crc32_obj) },
    { MP_ROM_QSTR(MP_QSTR_crc32c), MP_ROM_PTR(&hash_crc32c_obj) },
    { MP_ROM_QSTR(MP_QSTR_crc_impl), MP_ROM_PTR(&hash_impl_obj) },
};
static MP_DEFINE_CONST_DICT(hash_module_globals, hash_module_globals_table);

const mp_obj_module_t o3s_hash_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&hash_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR__hash, o3s_hash_module);
