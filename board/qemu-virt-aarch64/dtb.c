// A small flattened-device-tree reader: one pass over the structure block, looking only
// at the root's children (that is where QEMU virt puts every device we use).
#include <string.h>
#include "dtb.h"

#define FDT_MAGIC       0xd00dfeed
#define FDT_BEGIN_NODE  1
#define FDT_END_NODE    2
#define FDT_PROP        3
#define FDT_NOP         4
#define FDT_END         9

dtb_info_t dtb_info = {
    .ram_base = 0x40000000,
    .ram_size = 128 * 1024 * 1024,      // QEMU virt's default -m
    .ram_total = 128 * 1024 * 1024,
    .uart_base = 0x09000000,
    .uart_irq = 32 + 1,
    .psci = DTB_PSCI_HVC,
    .timer_irq = 16 + 11,
};

static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

// A value of `cells` 32-bit cells (1 or 2).
static uint64_t cells_val(const uint8_t *p, uint32_t cells) {
    return cells == 2 ? ((uint64_t)be32(p) << 32) | be32(p + 4) : be32(p);
}

// Does a "compatible" string list contain want?
static int compat_has(const char *list, uint32_t len, const char *want) {
    uint32_t i = 0;
    while (i < len) {
        const char *s = list + i;
        size_t n = strnlen(s, len - i);
        if (strcmp(s, want) == 0) {
            return 1;
        }
        i += n + 1;
    }
    return 0;
}

// The current root child, gathered until its END_NODE (property order is arbitrary).
typedef struct {
    const char *name;
    const char *compat;
    uint32_t compat_len;
    const uint8_t *reg;
    uint32_t reg_len;
    const uint8_t *irq;
    uint32_t irq_len;
    int is_memory;
    int disabled;                       // status = "disabled" (e.g. secure-only RAM)
} node_t;

static uint32_t irq_to_intid(const uint8_t *p, uint32_t len, uint32_t index) {
    // GIC binding: <type number flags>; type 0 = SPI (ID 32 + n), 1 = PPI (ID 16 + n).
    if (len < (index + 1) * 12) {
        return 0;
    }
    p += index * 12;
    return be32(p + 4) + (be32(p) == 1 ? 16 : 32);
}

static void finish_node(dtb_info_t *d, const node_t *n, uint32_t ac, uint32_t sc,
    uint64_t image_addr, int *mem_seen) {
    uint32_t entry = 4 * (ac + sc);
    uint64_t base = 0, size = 0;
    if (n->disabled) {
        return;
    }
    if (n->reg && n->reg_len >= entry && ac >= 1 && ac <= 2 && sc <= 2) {
        base = cells_val(n->reg, ac);
        size = sc ? cells_val(n->reg + 4 * ac, sc) : 0;
    }
    if (n->is_memory && n->reg && ac >= 1 && ac <= 2 && sc >= 1 && sc <= 2) {
        for (uint32_t off = 0; off + entry <= n->reg_len; off += entry) {
            uint64_t b = cells_val(n->reg + off, ac);
            uint64_t s = cells_val(n->reg + off + 4 * ac, sc);
            if (!*mem_seen) {
                d->ram_total = 0;
                *mem_seen = 1;
            }
            d->ram_total += s;
            // The bank holding the image is the one we run in and take the heap from.
            if (image_addr >= b && image_addr - b < s) {
                d->ram_base = b;
                d->ram_size = s;
            }
        }
        return;
    }
    if (!n->compat || !base) {
        return;
    }
    if (compat_has(n->compat, n->compat_len, "virtio,mmio")) {
        if (d->n_virtio < DTB_MAX_VIRTIO) {
            dtb_mmio_t *v = &d->virtio[d->n_virtio++];
            v->base = base;
            v->size = size;
            v->irq = irq_to_intid(n->irq, n->irq_len, 0);
        }
    } else if (compat_has(n->compat, n->compat_len, "arm,pl011")) {
        d->uart_base = base;
        d->uart_irq = irq_to_intid(n->irq, n->irq_len, 0);
    } else if (compat_has(n->compat, n->compat_len, "arm,pl031")) {
        d->rtc_base = base;
    } else if (compat_has(n->compat, n->compat_len, "arm,cortex-a15-gic")
               || compat_has(n->compat, n->compat_len, "arm,gic-400")) {
        d->gic_version = 2;
        d->gic_dist = base;
        d->gic_cpu = n->reg_len >= 2 * entry ? cells_val(n->reg + entry, ac) : 0;
    } else if (compat_has(n->compat, n->compat_len, "arm,gic-v3")) {
        d->gic_version = 3;
        d->gic_dist = base;
        d->gic_cpu = n->reg_len >= 2 * entry ? cells_val(n->reg + entry, ac) : 0;
    }
}

int dtb_parse(const void *fdt, uint64_t image_addr) {
    const uint8_t *h = fdt;
    dtb_info_t *d = &dtb_info;
    if (be32(h) != FDT_MAGIC) {
        return -1;
    }
    uint32_t total = be32(h + 4);
    const uint8_t *st = h + be32(h + 8);
    const char *strs = (const char *)h + be32(h + 12);
    uint32_t st_size = be32(h + 36);
    if (total < 40 || be32(h + 8) + st_size > total) {
        return -1;
    }
    const uint8_t *p = st, *end = st + st_size;
    int depth = 0, mem_seen = 0;
    uint32_t ac = 2, sc = 1;            // the spec's defaults for the root
    node_t node;
    memset(&node, 0, sizeof(node));
    d->psci = DTB_PSCI_NONE;            // a DTB without /psci means no PSCI

    while (p + 4 <= end) {
        uint32_t tok = be32(p);
        p += 4;
        if (tok == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            size_t n = strnlen(name, end - p);
            p += (n + 4) & ~(size_t)3;
            depth++;
            if (depth == 2) {
                memset(&node, 0, sizeof(node));
                node.name = name;
            }
        } else if (tok == FDT_END_NODE) {
            if (depth == 2) {
                finish_node(d, &node, ac, sc, image_addr, &mem_seen);
            }
            depth--;
        } else if (tok == FDT_PROP) {
            if (p + 8 > end) {
                break;
            }
            uint32_t len = be32(p);
            const char *pname = strs + be32(p + 4);
            const uint8_t *val = p + 8;
            p = val + ((len + 3) & ~(uint32_t)3);
            if (p > end) {
                break;
            }
            if (depth == 1) {
                if (strcmp(pname, "#address-cells") == 0 && len == 4) {
                    ac = be32(val);
                } else if (strcmp(pname, "#size-cells") == 0 && len == 4) {
                    sc = be32(val);
                }
            } else if (depth == 2) {
                const char *nm = node.name;
                if (strcmp(pname, "compatible") == 0) {
                    node.compat = (const char *)val;
                    node.compat_len = len;
                } else if (strcmp(pname, "reg") == 0) {
                    node.reg = val;
                    node.reg_len = len;
                } else if (strcmp(pname, "interrupts") == 0) {
                    node.irq = val;
                    node.irq_len = len;
                } else if (strcmp(pname, "status") == 0) {
                    node.disabled = len >= 2 && strncmp((const char *)val, "ok", 2) != 0;
                } else if (strcmp(pname, "device_type") == 0 && len >= 6
                           && strcmp((const char *)val, "memory") == 0) {
                    node.is_memory = 1;
                } else if (strcmp(nm, "chosen") == 0 && strcmp(pname, "bootargs") == 0) {
                    size_t n = len < DTB_MAX_BOOTARGS ? len : DTB_MAX_BOOTARGS - 1;
                    memcpy(d->bootargs, val, n);
                    d->bootargs[n] = 0;
                } else if (strcmp(nm, "chosen") == 0 && strcmp(pname, "rng-seed") == 0) {
                    size_t n = len < DTB_MAX_RNG_SEED ? len : DTB_MAX_RNG_SEED;
                    memcpy(d->rng_seed, val, n);
                    d->rng_seed_len = n;
                } else if (strcmp(nm, "psci") == 0 && strcmp(pname, "method") == 0) {
                    if (strcmp((const char *)val, "smc") == 0) {
                        d->psci = DTB_PSCI_SMC;
                    } else if (strcmp((const char *)val, "hvc") == 0) {
                        d->psci = DTB_PSCI_HVC;
                    }
                } else if (strcmp(nm, "timer") == 0 && strcmp(pname, "interrupts") == 0) {
                    // Order: secure phys, non-secure phys, virtual, hypervisor.
                    uint32_t id = irq_to_intid(val, len, 2);
                    if (id) {
                        d->timer_irq = id;
                    }
                }
            }
        } else if (tok == FDT_NOP) {
            continue;
        } else {
            break;                      // FDT_END or garbage
        }
    }
    d->found = 1;
    return 0;
}
