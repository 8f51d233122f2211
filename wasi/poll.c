/* wasi/poll.c — poll_oneoff: clock subscriptions really sleep (wasi_plat_wait), files and
 * directories are always ready, stdio and sockets ask their ops. */
#include "wasi/wasi_int.h"

/* One subscription's readiness now; returns 1 and fills ev (32 bytes) when it fires. */
static int check(struct wasi_state *st, const uint8_t *s, uint8_t *ev, uint64_t now, const uint64_t *deadline) {
  uint8_t tag = s[8];
  memset(ev, 0, WASI_EVENT_SIZE);
  memcpy(ev, s, 8); /* userdata */
  ev[10] = tag;
  if (tag == WASI_EVENTTYPE_CLOCK) {
    if (*deadline == UINT64_MAX) { /* bad clock id: reported at once */
      wasi_st16(ev + 8, WASI_EINVAL);
      return 1;
    }
    return now >= *deadline;
  }
  uint32_t fd = wasi_ld32(s + 16);
  struct wasi_fd *f = wasi_fd_get(st, fd);
  if (!f) {
    wasi_st16(ev + 8, WASI_EBADF);
    return 1;
  }
  if ((f->rights_base & WASI_RIGHT(WASI_R_POLL_FD_READWRITE)) == 0) {
    wasi_st16(ev + 8, WASI_ENOTCAPABLE);
    return 1;
  }
  if (f->kind == WASI_FD_FILE) {
    uint64_t size = 0;
    if (f->node) size = f->node->size;
    else if (f->vfs) vfs_size(f, &size); /* a file is always ready; the count is a hint */
    uint64_t avail = tag == WASI_EVENTTYPE_FD_READ && size > f->offset ? size - f->offset : 0;
    wasi_st64(ev + 16, avail);
    return 1;
  }
  if (f->ops && f->ops->poll) {
    uint64_t nbytes = 0;
    int hangup = 0;
    if (!f->ops->poll(st, f, tag == WASI_EVENTTYPE_FD_READ ? 1 : 2, &nbytes, &hangup)) return 0;
    wasi_st64(ev + 16, nbytes);
    if (hangup) wasi_st16(ev + 24, WASI_EVENT_FD_READWRITE_HANGUP);
    return 1;
  }
  if (f->kind == WASI_FD_DIR) wasi_st16(ev + 8, WASI_EISDIR);
  else wasi_st16(ev + 8, WASI_ENOTSUP);
  return 1;
}

int32_t WASI_FN(poll_oneoff, iiii_i)(kiln_instance *ctx, int32_t in, int32_t out, int32_t nsubs, int32_t pnevents) {
  struct wasi_state *st = WASI_STATE(ctx);
  if (nsubs == 0) return WASI_EINVAL;
  const uint8_t *subs = wasi_guest_ptr(ctx, (uint32_t)in, (uint64_t)(uint32_t)nsubs * WASI_SUBSCRIPTION_SIZE);
  uint8_t *evs = wasi_guest_ptr(ctx, (uint32_t)out, (uint64_t)(uint32_t)nsubs * WASI_EVENT_SIZE);
  uint8_t *pn = wasi_guest_ptr(ctx, (uint32_t)pnevents, 4);
  if (!subs || !evs || !pn) return WASI_EFAULT;
  uint32_t n = (uint32_t)nsubs;
  for (uint32_t i = 0; i < n; i++)
    if (subs[i * WASI_SUBSCRIPTION_SIZE + 8] > WASI_EVENTTYPE_FD_WRITE) return WASI_EINVAL;
  /* Clock deadlines, as monotonic instants: realtime ones are converted once, here. The
   * subscriptions are copied first, since the events may overlap them in guest memory. */
  size_t need = (size_t)n * (sizeof(uint64_t) + WASI_SUBSCRIPTION_SIZE);
  if (need > st->poll_scratch_len) {
    uint8_t *b = wasi_alloc(need);
    if (!b) return WASI_ENOMEM;
    wasi_free(st->poll_scratch);
    st->poll_scratch = b;
    st->poll_scratch_len = need;
  }
  uint64_t *deadline = (uint64_t *)st->poll_scratch; /* 8-byte aligned: the allocation is */
  uint8_t *copy = st->poll_scratch + (size_t)n * sizeof(uint64_t);
  memcpy(copy, subs, (size_t)n * WASI_SUBSCRIPTION_SIZE);
  uint64_t mono = 0, earliest = UINT64_MAX;
  wasi_plat_clock_get(WASI_CLOCK_MONOTONIC, &mono);
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *s = copy + i * WASI_SUBSCRIPTION_SIZE;
    if (s[8] != WASI_EVENTTYPE_CLOCK) continue;
    uint32_t id = wasi_ld32(s + 16);
    uint64_t timeout = wasi_ld64(s + 24), now;
    int abs = wasi_ld16(s + 40) & WASI_SUBCLOCK_ABSTIME;
    if (wasi_plat_clock_get(id, &now)) {
      deadline[i] = UINT64_MAX;
      earliest = mono;
      continue;
    }
    uint64_t rel = abs ? (timeout > now ? timeout - now : 0) : timeout;
    deadline[i] = rel > UINT64_MAX - 1 - mono ? UINT64_MAX - 1 : mono + rel;
    if (deadline[i] < earliest) earliest = deadline[i];
  }
  uint32_t fired;
  for (;;) {
    fired = 0;
    uint64_t now = 0;
    wasi_plat_clock_get(WASI_CLOCK_MONOTONIC, &now);
    for (uint32_t i = 0; i < n; i++)
      if (check(st, copy + i * WASI_SUBSCRIPTION_SIZE, evs + fired * WASI_EVENT_SIZE, now, &deadline[i])) fired++;
    if (fired) break;
    wasi_plat_wait(earliest);
  }
  wasi_st32(pn, fired);
  return 0;
}
