/* drivers/fw_cfg.c — QEMU's firmware configuration device (docs/specs/fw_cfg.txt in QEMU), read
 * through its x86 I/O ports. `kiln run` passes small facts about the host side here (-fw_cfg
 * name=opt/kiln/...): unlike the kernel command line, they reach both the GRUB ISO and the
 * -kernel boot, decided at run time rather than baked into the image. */
#include "kernel/kernel.h"

#define FW_CFG_SELECTOR 0x510 /* 16-bit, little-endian */
#define FW_CFG_DATA 0x511     /* 8-bit, auto-incrementing */
enum { FW_CFG_SIGNATURE = 0x0000, FW_CFG_FILE_DIR = 0x0019 };

static void read_bytes(void *buf, size_t n) {
  uint8_t *p = buf;
  for (size_t i = 0; i < n; i++) p[i] = inb(FW_CFG_DATA);
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 | p[3]; }

int fw_cfg_read_file(const char *name, void *buf, size_t n) {
  char sig[4];
  outw(FW_CFG_SELECTOR, FW_CFG_SIGNATURE);
  read_bytes(sig, 4);
  if (memcmp(sig, "QEMU", 4)) return -1; /* no fw_cfg device (not QEMU) */
  uint8_t cnt[4];
  outw(FW_CFG_SELECTOR, FW_CFG_FILE_DIR);
  read_bytes(cnt, 4);
  uint32_t count = be32(cnt);
  /* The directory: count entries of {be32 size, be16 select, u16 reserved, char name[56]}. */
  for (uint32_t i = 0; i < count && i < 4096; i++) {
    uint8_t e[64];
    read_bytes(e, sizeof e);
    e[63] = 0;
    if (strcmp((const char *)e + 8, name)) continue;
    uint32_t size = be32(e);
    uint16_t sel = (uint16_t)(e[4] << 8 | e[5]);
    outw(FW_CFG_SELECTOR, sel);
    read_bytes(buf, size < n ? size : n);
    return (int)(size < n ? size : n);
  }
  return -1;
}
