/* aot/opt_address.c — address forms LLVM's loop analyses understand: widening and split bases.
 *
 * Widening: `x + C` computed in 64 bits when it provably does not wrap.
 * Wasm computes addresses in i32 modulo 2^32, so `i32.add x 8` feeding a load is zext(x+8), not
 * zext(x)+8, and LLVM cannot tell that the accesses at x and x+8 are adjacent: unrolled loops
 * stay scalar. But once an access at x (any offset, any size) has executed without trapping,
 * x <= 2^32 - 65536 - off - size, because kiln memories hold at most 65535 pages (memory.grow
 * refuses the 65536th: the spec lets a grow fail; see lower_memory.c). Then x + C cannot wrap
 * for 0 <= C <= 65536, and zext(x + C) == zext(x) + C exactly.
 *
 * The pass runs after SROA, on the IR shapes lower_memory.c emits: every linear-memory access
 * goes through a GEP tagged !kiln.addr whose index is zext(a) or zext(a) + off. Within a basic
 * block and in every block it dominates, the i32 values already used as `a` are proven;
 * an `add a, C` of a proven `a` gets nuw, and the zexts of it that feed addresses become
 * `add nuw nsw (zext a), C`. Only enabled when every memory is defined here with fewer than
 * 65536 initial pages (an imported memory may come from elsewhere and be full; with several
 * memories, an access to any of them proves its address). */
#include <stdlib.h>
#include <string.h>

#include "aot/aot.h"

typedef struct Set {
  LLVMValueRef *v;
  unsigned n, cap;
} Set;

static bool set_has(const Set *s, LLVMValueRef v) {
  for (unsigned i = s->n; i-- > 0;)
    if (s->v[i] == v) return true;
  return false;
}

/* Sets stay small (linear search): past 512 values new facts are ignored, which only means
 * less widening, and keeps huge blocks from costing quadratic time. */
static void set_add(Set *s, LLVMValueRef v) {
  if (s->n >= 512 || set_has(s, v)) return;
  if (s->n == s->cap) s->v = xrealloc(s->v, sizeof(LLVMValueRef) * (s->cap = s->cap ? 2 * s->cap : 16));
  s->v[s->n++] = v;
}

/* The i32 address operand of an access through a !kiln.addr GEP, or NULL. */
static LLVMValueRef access_gep(Compiler *c, LLVMValueRef in);

/* Widened adds of this function: wide[i] (i64) stands for narrow[i] (the i32 add). */
typedef struct Widened {
  LLVMValueRef *wide, *narrow;
  unsigned n, cap;
} Widened;

static LLVMValueRef narrow_of(const Widened *w, LLVMValueRef v) {
  for (unsigned i = w->n; i-- > 0;)
    if (w->wide[i] == v) return w->narrow[i];
  return NULL;
}

/* The i32 address of an access through a !kiln.addr GEP (index zext(a) or zext(a) + off,
 * a widened add standing for its i32 add), or NULL. */
static LLVMValueRef accessed_i32(Compiler *c, const Widened *w, LLVMValueRef inst) {
  LLVMValueRef ptr = access_gep(c, inst);
  if (!ptr) return NULL;
  LLVMValueRef idx = LLVMGetOperand(ptr, 1), a;
  if ((a = narrow_of(w, idx))) return a;
  if (LLVMIsABinaryOperator(idx) && LLVMGetInstructionOpcode(idx) == LLVMAdd) idx = LLVMGetOperand(idx, 0);
  if ((a = narrow_of(w, idx))) return a;
  if (!LLVMIsAZExtInst(idx)) return NULL;
  return LLVMGetOperand(idx, 0);
}

/* `add x, C` (either operand order) with 0 <= C <= 65536: returns x and sets *k. */
static LLVMValueRef small_add(LLVMValueRef inst, uint64_t *k) {
  if (!LLVMIsABinaryOperator(inst) || LLVMGetInstructionOpcode(inst) != LLVMAdd) return NULL;
  if (LLVMGetIntTypeWidth(LLVMTypeOf(inst)) != 32) return NULL;
  for (int i = 0; i < 2; i++) {
    LLVMValueRef cst = LLVMGetOperand(inst, i);
    if (LLVMIsAConstantInt(cst) && LLVMConstIntGetZExtValue(cst) <= 65536) {
      *k = LLVMConstIntGetZExtValue(cst);
      return LLVMGetOperand(inst, 1 - i);
    }
  }
  return NULL;
}

/* Replaces every zext of `add` (x + k) with add nuw nsw (zext x), k. */
static void widen_uses(Compiler *c, LLVMBuilderRef b, Widened *wl, LLVMValueRef add, LLVMValueRef x, uint64_t k) {
  LLVMSetNUW(add, 1);
  for (;;) {
    LLVMValueRef z = NULL;
    for (LLVMUseRef u = LLVMGetFirstUse(add); u; u = LLVMGetNextUse(u)) {
      LLVMValueRef user = LLVMGetUser(u);
      if (LLVMIsAZExtInst(user) && LLVMTypeOf(user) == c->i64) {
        z = user;
        break;
      }
    }
    if (!z) return;
    LLVMPositionBuilderBefore(b, z);
    LLVMValueRef w = LLVMBuildAdd(b, LLVMBuildZExt(b, x, c->i64, ""), LLVMConstInt(c->i64, k, 0), "");
    LLVMSetNUW(w, 1);
    LLVMSetNSW(w, 1);
    LLVMReplaceAllUsesWith(z, w);
    LLVMInstructionEraseFromParent(z);
    if (wl->n == 1024) continue; /* bounded search in narrow_of: only chains are lost */
    if (wl->n == wl->cap) {
      wl->cap = wl->cap ? 2 * wl->cap : 16;
      wl->wide = xrealloc(wl->wide, sizeof(LLVMValueRef) * wl->cap);
      wl->narrow = xrealloc(wl->narrow, sizeof(LLVMValueRef) * wl->cap);
    }
    wl->wide[wl->n] = w, wl->narrow[wl->n++] = add;
  }
}

/* The i32 value an access's index is built from (zext(x) plus constants), and the constants. */
static LLVMValueRef index_root(LLVMValueRef idx, uint64_t *off) {
  *off = 0;
  while (LLVMIsABinaryOperator(idx) && LLVMGetInstructionOpcode(idx) == LLVMAdd &&
         LLVMIsAConstantInt(LLVMGetOperand(idx, 1))) {
    *off += LLVMConstIntGetZExtValue(LLVMGetOperand(idx, 1));
    idx = LLVMGetOperand(idx, 0);
  }
  return LLVMIsAZExtInst(idx) ? LLVMGetOperand(idx, 0) : NULL;
}

static LLVMValueRef access_gep(Compiler *c, LLVMValueRef in) {
  LLVMValueRef ptr = LLVMIsALoadInst(in) ? LLVMGetOperand(in, 0) : LLVMIsAStoreInst(in) ? LLVMGetOperand(in, 1) : NULL;
  return ptr && LLVMIsAGetElementPtrInst(ptr) && LLVMGetMetadata(ptr, c->md_addr) ? ptr : NULL;
}

static bool self_loop(LLVMBasicBlockRef bb) {
  LLVMValueRef t = LLVMGetBasicBlockTerminator(bb);
  for (unsigned i = 0, n = t ? LLVMGetNumSuccessors(t) : 0; i < n; i++)
    if (LLVMGetSuccessor(t, i) == bb) return true;
  return false;
}

#define MAX_SPLIT 16
typedef struct PhiUse {
  LLVMValueRef phi, base;
  uint64_t off[2]; /* two distinct offsets seen in the loop block: enough */
  unsigned noff;
} PhiUse;

/* In a single-block loop, accesses through one pointer induction variable at two or more
 * offsets (a loop clang unrolled: a[i], a[i+1]) get a base of their own per such phi: an
 * opaque copy of mem0. When all accesses share one underlying object and the distance
 * between two arrays is unknown, LLVM's loop access analysis falls back to checking every
 * pair of pointers at run time, a[i] against a[i+1] included, which always overlap: the
 * vector loop never runs. With one object per pointer it checks the arrays against each
 * other instead. The copies are not identified objects: nothing is assumed about aliasing. */
static void split_bases(Compiler *c, LLVMBuilderRef b, LLVMValueRef fn) {
  PhiUse pu[MAX_SPLIT];
  unsigned n = 0;
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(fn);
  for (LLVMBasicBlockRef bb = entry; bb; bb = LLVMGetNextBasicBlock(bb)) {
    if (!self_loop(bb)) continue;
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
      LLVMValueRef g = access_gep(c, in);
      uint64_t off;
      LLVMValueRef x = g ? index_root(LLVMGetOperand(g, 1), &off) : NULL;
      if (!x || !LLVMIsAPHINode(x) || LLVMGetInstructionParent(x) != bb) continue;
      unsigned k = 0;
      while (k < n && pu[k].phi != x) k++;
      if (k == n) {
        if (n == MAX_SPLIT) continue;
        pu[n++] = (PhiUse){.phi = x};
      }
      if (pu[k].noff < 2 && (pu[k].noff == 0 || pu[k].off[0] != off)) pu[k].off[pu[k].noff++] = off;
    }
  }
  LLVMTypeRef fty = LLVMFunctionType(c->ptr, (LLVMTypeRef[]){c->ptr, c->i32}, 2, 0);
  LLVMValueRef asm_ = LLVMGetInlineAsm(fty, "", 0, "=r,0,i", 6, 0, 0, LLVMInlineAsmDialectATT, 0);
  for (LLVMBasicBlockRef bb = entry; bb; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
      LLVMValueRef g = access_gep(c, in);
      uint64_t off;
      LLVMValueRef x = g ? index_root(LLVMGetOperand(g, 1), &off) : NULL;
      if (!x) continue;
      unsigned k = 0;
      while (k < n && (pu[k].phi != x || pu[k].noff < 2)) k++;
      LLVMValueRef base = LLVMGetOperand(g, 0);
      if (k == n || !LLVMIsAInstruction(base) || LLVMGetInstructionParent(base) != entry) continue;
      if (!pu[k].base) {
        LLVMPositionBuilderBefore(b, LLVMGetBasicBlockTerminator(entry));
        pu[k].base = LLVMBuildCall2(b, fty, asm_, (LLVMValueRef[]){base, LLVMConstInt(c->i32, k, 0)}, 2, "");
        static const char *const attrs[] = {"memory", "nounwind", "willreturn"}; /* memory(none) */
        for (int i = 0; i < 3; i++)
          LLVMAddCallSiteAttribute(pu[k].base, LLVMAttributeFunctionIndex,
                                   LLVMCreateEnumAttribute(c->llc, LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i])), 0));
      }
      LLVMSetOperand(g, 0, pu[k].base);
    }
}

/* Block -> index in bbs[], open addressing. */
typedef struct BlockIndex {
  LLVMBasicBlockRef *key;
  unsigned *val, cap;
} BlockIndex;

static unsigned bi_slot(const BlockIndex *m, LLVMBasicBlockRef b) {
  unsigned i = (unsigned)(((uintptr_t)b >> 4) * 0x9e3779b97f4a7c15ull >> 40) & (m->cap - 1);
  while (m->key[i] && m->key[i] != b) i = (i + 1) & (m->cap - 1);
  return i;
}

/* The immediate dominator of each block, by index (the entry's is itself; a block not
 * reachable from the entry gets UINT32_MAX), and the blocks in reverse postorder: Cooper,
 * Harvey and Kennedy's iteration ("A Simple, Fast Dominance Algorithm"). */
static unsigned *dominators(LLVMBasicBlockRef *bbs, unsigned nbb, unsigned *rpo) {
  BlockIndex bi = {.cap = 16};
  while (bi.cap < 2 * nbb) bi.cap *= 2;
  bi.key = xmalloc(sizeof(LLVMBasicBlockRef) * bi.cap), bi.val = xmalloc(sizeof(unsigned) * bi.cap);
  for (unsigned i = 0; i < nbb; i++) {
    unsigned k = bi_slot(&bi, bbs[i]);
    bi.key[k] = bbs[i], bi.val[k] = i;
  }
  /* Successor lists, then a depth-first walk for the postorder. */
  unsigned *nsucc = xmalloc(sizeof(unsigned) * nbb), *first = xmalloc(sizeof(unsigned) * (nbb + 1));
  unsigned total = 0;
  for (unsigned i = 0; i < nbb; i++) {
    LLVMValueRef t = LLVMGetBasicBlockTerminator(bbs[i]);
    nsucc[i] = t ? LLVMGetNumSuccessors(t) : 0;
    first[i] = total, total += nsucc[i];
  }
  first[nbb] = total;
  unsigned *succ = xmalloc(sizeof(unsigned) * (total + 1));
  for (unsigned i = 0; i < nbb; i++)
    for (unsigned k = 0; k < nsucc[i]; k++)
      succ[first[i] + k] = bi.val[bi_slot(&bi, LLVMGetSuccessor(LLVMGetBasicBlockTerminator(bbs[i]), k))];
  unsigned *order = xmalloc(sizeof(unsigned) * nbb); /* postorder number of each block */
  unsigned *stack = xmalloc(sizeof(unsigned) * nbb), *next = xmalloc(sizeof(unsigned) * nbb);
  bool *seen = xmalloc(nbb);
  unsigned sp = 0, n = 0;
  stack[sp++] = 0, seen[0] = true, next[0] = 0;
  while (sp) {
    unsigned b = stack[sp - 1];
    if (next[b] < nsucc[b]) {
      unsigned s = succ[first[b] + next[b]++];
      if (!seen[s]) seen[s] = true, next[s] = 0, stack[sp++] = s;
    } else {
      order[b] = n, rpo[nbb - 1 - n] = b, n++;
      sp--;
    }
  }
  /* rpo[] holds the n reachable blocks at its end: move them to the front. */
  memmove(rpo, rpo + (nbb - n), sizeof(unsigned) * n);
  for (unsigned i = n; i < nbb; i++) rpo[i] = UINT32_MAX;
  /* Predecessor lists of the reachable blocks. */
  unsigned *npred = xmalloc(sizeof(unsigned) * (nbb + 1)), *pfirst = xmalloc(sizeof(unsigned) * (nbb + 1));
  unsigned *pred = xmalloc(sizeof(unsigned) * (total + 1));
  for (unsigned r = 0; r < n; r++)
    for (unsigned k = first[rpo[r]]; k < first[rpo[r] + 1]; k++) npred[succ[k]]++;
  for (unsigned i = 0, t = 0; i < nbb; i++) pfirst[i] = t, t += npred[i], npred[i] = 0;
  for (unsigned r = 0; r < n; r++)
    for (unsigned k = first[rpo[r]]; k < first[rpo[r] + 1]; k++) pred[pfirst[succ[k]] + npred[succ[k]]++] = rpo[r];
  unsigned *idom = xmalloc(sizeof(unsigned) * nbb);
  for (unsigned i = 0; i < nbb; i++) idom[i] = UINT32_MAX;
  idom[0] = 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (unsigned r = 1; r < n; r++) {
      unsigned b = rpo[r], nd = UINT32_MAX;
      for (unsigned k = pfirst[b]; k < pfirst[b] + npred[b]; k++) {
        unsigned p = pred[k];
        if (idom[p] == UINT32_MAX) continue; /* not processed yet */
        if (nd == UINT32_MAX) {
          nd = p;
          continue;
        }
        unsigned x = p, y = nd;
        while (x != y) {
          while (order[x] < order[y]) x = idom[x];
          while (order[y] < order[x]) y = idom[y];
        }
        nd = x;
      }
      if (nd != idom[b]) idom[b] = nd, changed = true;
    }
  }
  free(npred), free(pfirst), free(pred);
  free(bi.key), free(bi.val), free(nsucc), free(first), free(succ), free(order), free(stack), free(next), free(seen);
  return idom;
}

/* Whether v is proven at the end of block i, by it or one of its dominators; the walk up the
 * dominator tree stops after MAX_CHAIN facts or blocks (less widening, never a wrong one),
 * so a chain of 20,000 ifs costs no quadratic time. */
#define MAX_CHAIN 2048
static bool chain_has(const Set *out, const unsigned *idom, unsigned i, LLVMValueRef v) {
  unsigned seen = 0;
  for (unsigned steps = 0; i != UINT32_MAX && seen < MAX_CHAIN && steps < MAX_CHAIN; steps++) {
    if (set_has(&out[i], v)) return true;
    seen += out[i].n;
    if (i == 0) break;
    i = idom[i];
  }
  return false;
}

/* An access that executed proves its address in every block it dominates: on any path there,
 * the access came after the value's definition (SSA), so it was this very value. */
static void widen_function(Compiler *c, LLVMBuilderRef b, LLVMValueRef fn) {
  unsigned nbb = LLVMCountBasicBlocks(fn);
  if (!nbb) return;
  LLVMBasicBlockRef *bbs = xmalloc(sizeof(LLVMBasicBlockRef) * nbb);
  LLVMGetBasicBlocks(fn, bbs);
  unsigned *rpo = xmalloc(sizeof(unsigned) * nbb);
  unsigned *idom = dominators(bbs, nbb, rpo);
  Set *out = xmalloc(sizeof(Set) * nbb); /* proven in each block itself (its dominators' in theirs) */
  Widened wl = {0};
  for (unsigned r = 0; r < nbb; r++) {
    unsigned i = rpo[r];
    if (i == UINT32_MAX) break; /* the rest is unreachable */
    unsigned up = i == 0 ? UINT32_MAX : idom[i];
    for (LLVMValueRef in = LLVMGetFirstInstruction(bbs[i]); in; in = LLVMGetNextInstruction(in)) {
      LLVMValueRef a = accessed_i32(c, &wl, in);
      uint64_t k;
      if (a) set_add(&out[i], a);
      else if ((a = small_add(in, &k)) && (set_has(&out[i], a) || chain_has(out, idom, up, a)))
        widen_uses(c, b, &wl, in, a, k);
    }
  }
  for (unsigned i = 0; i < nbb; i++) free(out[i].v);
  free(out);
  free(wl.wide);
  free(wl.narrow);
  free(rpo);
  free(idom);
  free(bbs);
}

/* Pre-incremented pointers in single-block loops: p = phi [init, y], y = p + C (0 < C <=
 * 65536), an access at y. From the second iteration on, p is the y accessed in the previous
 * one, so y = p + C cannot wrap; only the first y may. An i64 induction variable
 * Y64 = P64 + C with P64 starting at zext(init + C) - C (the first y, wrapped as Wasm does,
 * minus C) therefore equals zext(y) in every iteration, and LLVM loses the zero-extension
 * of a 32-bit induction variable in each iteration. */
static void widen_ivs(Compiler *c, LLVMBuilderRef b, LLVMValueRef fn) {
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
    if (!self_loop(bb)) continue;
    for (LLVMValueRef p = LLVMGetFirstInstruction(bb); p && LLVMIsAPHINode(p); p = LLVMGetNextInstruction(p)) {
      if (LLVMCountIncoming(p) != 2 || LLVMTypeOf(p) != c->i32) continue;
      unsigned self = LLVMGetIncomingBlock(p, 0) == bb ? 0 : 1;
      if (LLVMGetIncomingBlock(p, self) != bb || LLVMGetIncomingBlock(p, 1 - self) == bb) continue;
      LLVMValueRef y = LLVMGetIncomingValue(p, self), init = LLVMGetIncomingValue(p, 1 - self);
      LLVMBasicBlockRef pred = LLVMGetIncomingBlock(p, 1 - self);
      uint64_t k;
      if (!LLVMIsAInstruction(y) || LLVMGetInstructionParent(y) != bb || small_add(y, &k) != p || k == 0) continue;
      bool accessed = false;
      for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in && !accessed; in = LLVMGetNextInstruction(in)) {
        LLVMValueRef g = access_gep(c, in);
        uint64_t off;
        accessed = g && index_root(LLVMGetOperand(g, 1), &off) == y;
      }
      if (!accessed) continue;
      LLVMValueRef ck32 = LLVMConstInt(c->i32, k, 0), ck64 = LLVMConstInt(c->i64, k, 0);
      LLVMPositionBuilderBefore(b, LLVMGetBasicBlockTerminator(pred));
      LLVMValueRef first = LLVMBuildZExt(b, LLVMBuildAdd(b, init, ck32, ""), c->i64, "");
      LLVMValueRef start = LLVMBuildNSWSub(b, first, ck64, "");
      LLVMPositionBuilderBefore(b, LLVMGetFirstInstruction(bb));
      LLVMValueRef p64 = LLVMBuildPhi(b, c->i64, "");
      LLVMPositionBuilderBefore(b, LLVMGetNextInstruction(y));
      LLVMValueRef y64 = LLVMBuildNSWAdd(b, p64, ck64, "");
      LLVMValueRef vals[2] = {start, y64};
      LLVMBasicBlockRef from[2] = {pred, bb};
      LLVMAddIncoming(p64, vals, from, 2);
      for (;;) {
        LLVMValueRef z = NULL;
        for (LLVMUseRef u = LLVMGetFirstUse(y); u && !z; u = LLVMGetNextUse(u))
          if (LLVMIsAZExtInst(LLVMGetUser(u)) && LLVMTypeOf(LLVMGetUser(u)) == c->i64) z = LLVMGetUser(u);
        if (!z) break;
        LLVMReplaceAllUsesWith(z, y64);
        LLVMInstructionEraseFromParent(z);
      }
    }
  }
}

void optimize_addresses(Compiler *c) {
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->llc);
  for (uint32_t f = c->lo; f < c->hi; f++) {
    if (c->widen) widen_function(c, b, c->fns[f]), widen_ivs(c, b, c->fns[f]);
    if (c->opt->opt >= 2) split_bases(c, b, c->fns[f]); /* only the vectorizer (-O2+) gains */
  }
  LLVMDisposeBuilder(b);
}
