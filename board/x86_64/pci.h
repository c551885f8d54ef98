// PCI on the x86_64 board: configuration mechanism #1 (ports 0xCF8/0xCFC) and a bus walk.
// The accessors are the ones virtio_pci.h asks boards for.
#ifndef O3S_X86_PCI_H
#define O3S_X86_PCI_H

#include <stdint.h>

// Called for every function found, bridges' buses included, in bus/device/function order.
typedef void (*pci_found_fn)(uint32_t bdf, uint16_t vendor, uint16_t device);

// Walk bus 0 and every bus behind a PCI-to-PCI bridge. Returns the functions seen.
int pci_scan(pci_found_fn found);

#endif
