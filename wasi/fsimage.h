/* wasi/fsimage.h — the kiln-pack archive: the files of `kiln build --dir HOST[:GUEST]`, plus
 * optional args and environment, packed into one blob that the kernel receives as a multiboot
 * module and hands to wasi_load_image(). Written by build/kiln-pack (wasi/tool/kiln-pack.c).
 *
 * All integers little-endian. Layout:
 *
 *   header (32 bytes)
 *     0  magic     "KILNFS1\n"
 *     8  u32       version (1)
 *    12  u32       number of entries
 *    16  u64       total length of the archive in bytes
 *    24  u64       reserved (0)
 *   entries, one after the other, each:
 *     0  u8        type (KILNFS_*)
 *     1  u8[3]     0
 *     4  u32       name_len: bytes of `name` following the record
 *     8  u32       extra_len: bytes of `extra` following the name
 *    12  u32       0
 *    16  u64       data_off: FILE: offset of its contents from the start of the archive
 *    24  u64       data_len: FILE: its size
 *    32  u64       mtime, nanoseconds since the Unix epoch
 *    40  name bytes, then extra bytes, then zero padding to a multiple of 8
 *   file contents, each starting on a 16-byte boundary, anywhere after the entries
 *
 * Entry types and what `name` / `extra` hold:
 *   PREOPEN   name: guest name of a new preopened directory ("/", "data", ...). The entries
 *             that follow, up to the next PREOPEN, are inside it.
 *   DIR       name: path relative to the preopen ("a", "a/b"; '/'-separated, no "." or ".."
 *             components, no empty ones); its parent appears earlier.
 *   FILE      name: path; contents at [data_off, data_off + data_len).
 *   SYMLINK   name: path; extra: the link's target, stored as is.
 *   HARDLINK  name: path; extra: path of an earlier FILE of the same preopen it is a link to.
 *   ARG       name: one argument (argv[0] first), appended to the instance's args.
 *   ENV       name: one "KEY=VALUE" string.
 * Readers reject anything else (unknown type, out-of-range offsets or lengths, bad paths).
 */
#ifndef KILN_WASI_FSIMAGE_H
#define KILN_WASI_FSIMAGE_H

#define KILNFS_MAGIC "KILNFS1\n"
#define KILNFS_VERSION 1
#define KILNFS_HEADER_SIZE 32
#define KILNFS_ENTRY_SIZE 40
#define KILNFS_DATA_ALIGN 16

enum { KILNFS_PREOPEN = 1, KILNFS_DIR, KILNFS_FILE, KILNFS_SYMLINK, KILNFS_HARDLINK, KILNFS_ARG, KILNFS_ENV };

#endif
