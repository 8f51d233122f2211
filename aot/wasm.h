/* aot/wasm.h — constants of the WebAssembly 2.0 binary format, transcribed from the
 * specification (chapter 5, "Binary Format"). Only what the spec defines; no Kiln logic. */
#ifndef KILN_WASM_H
#define KILN_WASM_H

#define WASM_MAGIC 0x6d736100u /* "\0asm" little-endian */
#define WASM_VERSION 1u

/* 5.5.2 Sections */
enum {
  SEC_CUSTOM = 0,
  SEC_TYPE = 1,
  SEC_IMPORT = 2,
  SEC_FUNCTION = 3,
  SEC_TABLE = 4,
  SEC_MEMORY = 5,
  SEC_GLOBAL = 6,
  SEC_EXPORT = 7,
  SEC_START = 8,
  SEC_ELEMENT = 9,
  SEC_CODE = 10,
  SEC_DATA = 11,
  SEC_DATACOUNT = 12,
  SEC_TAG = 13, /* exception handling proposal: between memory and global */
};

/* 5.3 Types */
enum {
  T_I32 = 0x7f,
  T_I64 = 0x7e,
  T_F32 = 0x7d,
  T_F64 = 0x7c,
  T_V128 = 0x7b,
  T_FUNCREF = 0x70,
  T_EXTERNREF = 0x6f,
  T_FUNC = 0x60,      /* function type constructor */
  T_EMPTY = 0x40,     /* empty block type */
  T_UNKNOWN = 0x00,   /* not a wasm byte: the validator's "Unknown" operand type */
};

/* 5.4 Instructions: single-byte opcodes */
enum {
  OP_UNREACHABLE = 0x00,
  OP_NOP = 0x01,
  OP_BLOCK = 0x02,
  OP_LOOP = 0x03,
  OP_IF = 0x04,
  OP_ELSE = 0x05,
  OP_TRY = 0x06,       /* legacy exception handling: 0x06 0x07 0x08 0x09 0x18 0x19 */
  OP_CATCH = 0x07,
  OP_THROW = 0x08,
  OP_RETHROW = 0x09,
  OP_END = 0x0b,
  OP_BR = 0x0c,
  OP_BR_IF = 0x0d,
  OP_BR_TABLE = 0x0e,
  OP_RETURN = 0x0f,
  OP_CALL = 0x10,
  OP_CALL_INDIRECT = 0x11,
  OP_RETURN_CALL = 0x12,          /* tail-call proposal */
  OP_RETURN_CALL_INDIRECT = 0x13, /* tail-call proposal */
  OP_DELEGATE = 0x18,
  OP_CATCH_ALL = 0x19,
  OP_DROP = 0x1a,
  OP_SELECT = 0x1b,
  OP_SELECT_T = 0x1c,
  OP_LOCAL_GET = 0x20,
  OP_LOCAL_SET = 0x21,
  OP_LOCAL_TEE = 0x22,
  OP_GLOBAL_GET = 0x23,
  OP_GLOBAL_SET = 0x24,
  OP_TABLE_GET = 0x25,
  OP_TABLE_SET = 0x26,
  OP_I32_LOAD = 0x28,     /* loads: 0x28..0x35 */
  OP_I64_LOAD32_U = 0x35,
  OP_I32_STORE = 0x36,    /* stores: 0x36..0x3e */
  OP_I64_STORE32 = 0x3e,
  OP_MEMORY_SIZE = 0x3f,
  OP_MEMORY_GROW = 0x40,
  OP_I32_CONST = 0x41,
  OP_I64_CONST = 0x42,
  OP_F32_CONST = 0x43,
  OP_F64_CONST = 0x44,
  OP_NUMERIC_FIRST = 0x45, /* i32.eqz .. f64.copysign: the table in lower_numeric.c */
  OP_NUMERIC_LAST = 0xa6,
  OP_CONVERT_FIRST = 0xa7, /* i32.wrap_i64 .. i64.extend32_s: lower_convert.c */
  OP_CONVERT_LAST = 0xc4,
  OP_REF_NULL = 0xd0,
  OP_REF_IS_NULL = 0xd1,
  OP_REF_FUNC = 0xd2,
  OP_PREFIX_FC = 0xfc,
  OP_PREFIX_FD = 0xfd, /* fixed-width SIMD: lower_simd.c */
  OP_PREFIX_FE = 0xfe, /* threads: lower_atomic.c */
};

/* 0xfc-prefixed (u32 immediate sub-opcode) */
enum {
  FC_I32_TRUNC_SAT_F32_S = 0, /* 0..7: trunc_sat */
  FC_I64_TRUNC_SAT_F64_U = 7,
  FC_MEMORY_INIT = 8,
  FC_DATA_DROP = 9,
  FC_MEMORY_COPY = 10,
  FC_MEMORY_FILL = 11,
  FC_TABLE_INIT = 12,
  FC_ELEM_DROP = 13,
  FC_TABLE_COPY = 14,
  FC_TABLE_GROW = 15,
  FC_TABLE_SIZE = 16,
  FC_TABLE_FILL = 17,
};

/* 5.5.10 Import/export descriptors */
enum { EXT_FUNC = 0, EXT_TABLE = 1, EXT_MEMORY = 2, EXT_GLOBAL = 3, EXT_TAG = 4 };

#define WASM_MAX_PAGES 65536u

#endif
