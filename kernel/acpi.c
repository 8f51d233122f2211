/* kernel/acpi.c — the one thing the kernel wants from ACPI: the local APIC IDs of the
 * processors, from the MADT. The RSDP comes from the PVH start info (rsdp_paddr, QEMU
 * -kernel) when the loader gave one, else from the BIOS areas where the ACPI specification
 * says to look (the EBDA's usual place below 640 KiB, then 0xE0000-0xFFFFF: SeaBIOS, qboot;
 * the EBDA pointer itself is in page 0, which stays unmapped). Tables are read in place, each
 * checked by its checksum; those in reserved RAM that the identity map leaves out (SeaBIOS
 * puts them at the top of low RAM) are mapped first. */
#include "kernel/kernel.h"

struct __attribute__((packed)) acpi_rsdp {
  char signature[8]; /* "RSD PTR " */
  uint8_t checksum;
  char oem[6];
  uint8_t revision; /* 0: ACPI 1.0 (RSDT only), 2: XSDT fields follow */
  uint32_t rsdt;
  uint32_t length;
  uint64_t xsdt;
  uint8_t xchecksum, reserved[3];
};

struct __attribute__((packed)) acpi_header {
  char signature[4];
  uint32_t length;
  uint8_t revision, checksum;
  char oem[6], oem_table[8];
  uint32_t oem_revision, creator, creator_revision;
};

/* MADT: the header, the local APIC address and flags, then variable entries. */
#define MADT_LOCAL_APIC 0
#define MADT_ENABLED 1u        /* the processor is usable */
#define MADT_ONLINE_CAPABLE 2u /* ACPI 6.3: may be enabled */

static int sum_ok(const void *p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; i++) s += ((const uint8_t *)p)[i];
  return s == 0;
}

static const struct acpi_rsdp *rsdp_at(uint64_t a) {
  const struct acpi_rsdp *r = (const void *)(uintptr_t)a;
  return !memcmp(r->signature, "RSD PTR ", 8) && sum_ok(r, 20) ? r : NULL;
}

static const struct acpi_rsdp *scan(uint64_t from, uint64_t to) {
  for (uint64_t a = from; a + sizeof(struct acpi_rsdp) <= to; a += 16)
    if (rsdp_at(a)) return rsdp_at(a);
  return NULL;
}

static const struct acpi_rsdp *find_rsdp(void) {
  if (boot_info.rsdp && boot_info.rsdp < (4ull << 30)) {
    kmap_mmio(boot_info.rsdp, sizeof(struct acpi_rsdp));
    if (rsdp_at(boot_info.rsdp)) return rsdp_at(boot_info.rsdp);
  }
  const struct acpi_rsdp *r = scan(0x9fc00, 0xa0000);
  return r ? r : scan(0xe0000, 0x100000);
}

/* A table below 4 GiB (the identity map's 2 MiB pages cover it) with a valid checksum. */
static const struct acpi_header *table_at(uint64_t a) {
  if (!a || a >= (4ull << 30)) return NULL;
  const struct acpi_header *h = kmap_mmio(a, sizeof *h);
  if (h->length < (1u << 20)) kmap_mmio(a, h->length);
  return h->length >= sizeof *h && h->length < (1u << 20) && sum_ok(h, h->length) ? h : NULL;
}

static const struct acpi_header *find_table(const struct acpi_rsdp *r, const char sig[4]) {
  int x = r->revision >= 2 && r->xsdt;
  const struct acpi_header *root = table_at(x ? r->xsdt : r->rsdt);
  if (!root) return NULL;
  size_t esize = x ? 8 : 4, n = (root->length - sizeof *root) / esize;
  const uint8_t *e = (const uint8_t *)(root + 1);
  for (size_t i = 0; i < n; i++) {
    uint64_t a = 0;
    memcpy(&a, e + i * esize, esize);
    const struct acpi_header *t = table_at(a);
    if (t && !memcmp(t->signature, sig, 4)) return t;
  }
  return NULL;
}

int acpi_cpus(uint8_t *apic_ids, int max) {
  const struct acpi_rsdp *r = find_rsdp();
  const struct acpi_header *madt = r ? find_table(r, "APIC") : NULL;
  if (!madt) return 0;
  int n = 0;
  const uint8_t *p = (const uint8_t *)madt + sizeof *madt + 8, *end = (const uint8_t *)madt + madt->length;
  while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
    if (p[0] == MADT_LOCAL_APIC && p[1] >= 8) {
      uint32_t flags;
      memcpy(&flags, p + 4, 4);
      if ((flags & (MADT_ENABLED | MADT_ONLINE_CAPABLE)) && n < max) apic_ids[n++] = p[3];
    }
    p += p[1];
  }
  return n;
}
