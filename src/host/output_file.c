/* Temp-file-and-rename output. */
#include "output_file.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/error.h"

/* The temporaries being written, where a signal handler can read them: a
 * slot's path is complete before the slot is marked live, and the mark is
 * cleared before the path changes. */
#define GR_OUTPUT_SLOTS 32
#define GR_OUTPUT_PATH_CAP 4096
static char g_tmp[GR_OUTPUT_SLOTS][GR_OUTPUT_PATH_CAP];
static volatile sig_atomic_t g_live[GR_OUTPUT_SLOTS];

static int register_tmp(const char *tmp) {
  const size_t n = strlen(tmp);
  if (n >= GR_OUTPUT_PATH_CAP) return -1; /* not guarded, still written safely */
  for (int s = 0; s < GR_OUTPUT_SLOTS; s++)
    if (!g_live[s]) {
      memcpy(g_tmp[s], tmp, n + 1);
      g_live[s] = 1;
      return s;
    }
  return -1;
}

static void unregister_tmp(gr_output_file *o) {
  if (o->slot > 0) g_live[o->slot - 1] = 0;
  o->slot = 0;
}

void gr_output_on_fatal_signal(int sig) {
  for (int s = 0; s < GR_OUTPUT_SLOTS; s++)
    if (g_live[s]) unlink(g_tmp[s]);
  signal(sig, SIG_DFL);
  raise(sig);
}

void gr_output_guard_signals(void) {
  const int sigs[4] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
  for (int i = 0; i < 4; i++) {
    struct sigaction now;
    if (sigaction(sigs[i], NULL, &now) != 0 || now.sa_handler != SIG_DFL) continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = gr_output_on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(sigs[i], &sa, NULL);
  }
}

gr_status gr_output_open(gr_output_file *o, const char *path) {
  memset(o, 0, sizeof *o);
  if (strcmp(path, "-") == 0) {
    o->f = stdout;
    return GR_OK;
  }
  size_t n = strlen(path);
  o->path = malloc(n + 1);
  o->tmp_path = malloc(n + 32);
  if (!o->path || !o->tmp_path) {
    gr_output_abort(o);
    return gr_fail(GR_ERR_NOMEM, "cannot allocate a path");
  }
  memcpy(o->path, path, n + 1);
  snprintf(o->tmp_path, n + 32, "%s.tmp.%ld", path, (long)getpid());
  o->slot = register_tmp(o->tmp_path) + 1; /* before the file exists: never unguarded */
  o->f = fopen(o->tmp_path, "wb");
  if (!o->f) {
    gr_status st = gr_fail(GR_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    gr_output_abort(o);
    return st;
  }
  return GR_OK;
}

gr_status gr_output_commit(gr_output_file *o) {
  if (!o->path) {
    if (fflush(stdout) != 0 || ferror(stdout))
      return gr_fail(GR_ERR_IO, "cannot write to standard output: %s", strerror(errno));
    o->f = NULL;
    return GR_OK;
  }
  int failed = fflush(o->f) != 0 || ferror(o->f);
  int saved_errno = errno;
  if (!failed) failed = fsync(fileno(o->f)) != 0 && errno != EINVAL;
  if (fclose(o->f) != 0) failed = 1;
  o->f = NULL;
  if (failed) {
    gr_status st = gr_fail(GR_ERR_IO, "cannot write %s: %s", o->path,
                           strerror(saved_errno ? saved_errno : errno));
    gr_output_abort(o);
    return st;
  }
  if (rename(o->tmp_path, o->path) != 0) {
    gr_status st =
        gr_fail(GR_ERR_IO, "cannot rename %s to %s: %s", o->tmp_path, o->path, strerror(errno));
    gr_output_abort(o);
    return st;
  }
  unregister_tmp(o); /* after the rename: a signal in between finds nothing to remove */
  free(o->path);
  free(o->tmp_path);
  o->path = o->tmp_path = NULL;
  return GR_OK;
}

void gr_output_abort(gr_output_file *o) {
  if (o->f && o->f != stdout) fclose(o->f);
  o->f = NULL;
  if (o->tmp_path) remove(o->tmp_path);
  unregister_tmp(o);
  free(o->path);
  free(o->tmp_path);
  o->path = o->tmp_path = NULL;
}
