/* wasi/wasi_calls.h — the 46 functions of wasi_snapshot_preview1 as kiln-aot links them
 * (aot/abi.h mangling: the type is part of the name). wasi/ defines all of them; included by
 * wasi/wasi_int.h so the definitions are checked against these declarations. */
#ifndef KILN_WASI_CALLS_H
#define KILN_WASI_CALLS_H

#include "aot/abi.h"

#define WASI_FN(name, sig) KILN_IMPORT(wasi_snapshot_preview1, name, sig)

int32_t WASI_FN(args_get, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(args_sizes_get, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(environ_get, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(environ_sizes_get, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(clock_res_get, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(clock_time_get, iIi_i)(kiln_instance *, int32_t, int64_t, int32_t);
int32_t WASI_FN(fd_advise, iIIi_i)(kiln_instance *, int32_t, int64_t, int64_t, int32_t);
int32_t WASI_FN(fd_allocate, iII_i)(kiln_instance *, int32_t, int64_t, int64_t);
int32_t WASI_FN(fd_close, i_i)(kiln_instance *, int32_t);
int32_t WASI_FN(fd_datasync, i_i)(kiln_instance *, int32_t);
int32_t WASI_FN(fd_fdstat_get, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(fd_fdstat_set_flags, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(fd_fdstat_set_rights, iII_i)(kiln_instance *, int32_t, int64_t, int64_t);
int32_t WASI_FN(fd_filestat_get, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(fd_filestat_set_size, iI_i)(kiln_instance *, int32_t, int64_t);
int32_t WASI_FN(fd_filestat_set_times, iIIi_i)(kiln_instance *, int32_t, int64_t, int64_t, int32_t);
int32_t WASI_FN(fd_pread, iiiIi_i)(kiln_instance *, int32_t, int32_t, int32_t, int64_t, int32_t);
int32_t WASI_FN(fd_prestat_get, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(fd_prestat_dir_name, iii_i)(kiln_instance *, int32_t, int32_t, int32_t);
int32_t WASI_FN(fd_pwrite, iiiIi_i)(kiln_instance *, int32_t, int32_t, int32_t, int64_t, int32_t);
int32_t WASI_FN(fd_read, iiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t);
int32_t WASI_FN(fd_readdir, iiiIi_i)(kiln_instance *, int32_t, int32_t, int32_t, int64_t, int32_t);
int32_t WASI_FN(fd_renumber, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(fd_seek, iIii_i)(kiln_instance *, int32_t, int64_t, int32_t, int32_t);
int32_t WASI_FN(fd_sync, i_i)(kiln_instance *, int32_t);
int32_t WASI_FN(fd_tell, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(fd_write, iiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t);
int32_t WASI_FN(path_create_directory, iii_i)(kiln_instance *, int32_t, int32_t, int32_t);
int32_t WASI_FN(path_filestat_get, iiiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t, int32_t);
int32_t WASI_FN(path_filestat_set_times, iiiiIIi_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t, int64_t, int64_t,
                                              int32_t);
int32_t WASI_FN(path_link, iiiiiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t);
int32_t WASI_FN(path_open, iiiiiIIii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t, int32_t, int64_t, int64_t,
                                  int32_t, int32_t);
int32_t WASI_FN(path_readlink, iiiiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t);
int32_t WASI_FN(path_remove_directory, iii_i)(kiln_instance *, int32_t, int32_t, int32_t);
int32_t WASI_FN(path_rename, iiiiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t);
int32_t WASI_FN(path_symlink, iiiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t, int32_t);
int32_t WASI_FN(path_unlink_file, iii_i)(kiln_instance *, int32_t, int32_t, int32_t);
int32_t WASI_FN(poll_oneoff, iiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t);
_Noreturn void WASI_FN(proc_exit, i_)(kiln_instance *, int32_t);
int32_t WASI_FN(proc_raise, i_i)(kiln_instance *, int32_t);
int32_t WASI_FN(sched_yield, _i)(kiln_instance *);
int32_t WASI_FN(random_get, ii_i)(kiln_instance *, int32_t, int32_t);
int32_t WASI_FN(sock_accept, iii_i)(kiln_instance *, int32_t, int32_t, int32_t);
int32_t WASI_FN(sock_recv, iiiiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t);
int32_t WASI_FN(sock_send, iiiii_i)(kiln_instance *, int32_t, int32_t, int32_t, int32_t, int32_t);
int32_t WASI_FN(sock_shutdown, ii_i)(kiln_instance *, int32_t, int32_t);

/* Kiln's own extension (module "kiln"), wasi/socket_fd.c. */
int32_t KILN_IMPORT(kiln, sendfile, iiIii_i)(kiln_instance *, int32_t, int32_t, int64_t, int32_t, int32_t);

#endif
