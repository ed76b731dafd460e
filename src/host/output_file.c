/* Temp-file-and-rename output. */
#include "output_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/error.h"
#include "input_file.h"

/* The temporaries being written, where a signal handler can read them: a
 * slot's path is complete before the slot is marked live, and the mark is
 * cleared before the path changes. */
#define GR_OUTPUT_SLOTS 32
#define GR_OUTPUT_PATH_CAP 4096
static char g_tmp[GR_OUTPUT_SLOTS][GR_OUTPUT_PATH_CAP];
static volatile sig_atomic_t g_live[GR_OUTPUT_SLOTS]; /* 1: a file to unlink, 2: a directory */

static int register_path(const char *tmp, int is_dir) {
  const size_t n = strlen(tmp);
  if (n >= GR_OUTPUT_PATH_CAP) return -1; /* not guarded, still written safely */
  for (int s = 0; s < GR_OUTPUT_SLOTS; s++)
    if (!g_live[s]) {
      memcpy(g_tmp[s], tmp, n + 1);
      atomic_signal_fence(memory_order_seq_cst); /* the path is whole before the mark */
      g_live[s] = is_dir ? 2 : 1;
      return s;
    }
  return -1;
}

int gr_output_guard(const char *path, int is_dir) { return register_path(path, is_dir) + 1; }

void gr_output_unguard(int guard) {
  if (guard > 0) g_live[guard - 1] = 0;
}

static void unregister_tmp(gr_output_file *o) {
  gr_output_unguard(o->slot);
  o->slot = 0;
}

/* The temporary an output is written to before its rename (malloc'ed). */
static char *tmp_name(const char *path) {
  const size_t cap = strlen(path) + 32;
  char *tmp = malloc(cap);
  if (tmp) snprintf(tmp, cap, "%s.tmp.%ld", path, (long)getpid());
  return tmp;
}

void gr_output_on_fatal_signal(int sig) {
  for (int s = 0; s < GR_OUTPUT_SLOTS; s++) /* files first: then their directories are empty */
    if (g_live[s] == 1) unlink(g_tmp[s]);
  for (int s = 0; s < GR_OUTPUT_SLOTS; s++)
    if (g_live[s] == 2) rmdir(g_tmp[s]);
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

/* An error when path names a file this process read as an input. */
static gr_status check_not_input(const char *path) {
  if (!gr_input_was_read(path)) return GR_OK;
  return gr_fail(GR_ERR_INVALID_ARG,
                 "will not write %s: it is also an input of this command (write the output to "
                 "another path)",
                 path);
}

// ---- held outputs -------------------------------------------------------------

typedef struct held_output {
  char *path, *tmp_path;
  int slot;
} held_output;

static held_output *g_held;
static int g_n_held, g_cap_held, g_holding, g_at_once;

void gr_output_hold(void) { g_holding = 1; }
int gr_output_holding(void) { return g_holding && !g_at_once; }
void gr_output_at_once_begin(void) { g_at_once++; }
void gr_output_at_once_end(void) { g_at_once--; }

/* Removes entry i, keeping the others in commit order. */
static void forget_held(int i, int remove_tmp) {
  held_output *h = &g_held[i];
  if (remove_tmp) remove(h->tmp_path);
  gr_output_unguard(h->slot); /* after the remove: never unguarded */
  free(h->path);
  free(h->tmp_path);
  memmove(g_held + i, g_held + i + 1, sizeof *g_held * (size_t)(g_n_held - i - 1));
  g_n_held--;
}

void gr_output_drop(void) {
  while (g_n_held)
    forget_held(g_n_held - 1, 1);
  g_holding = 0;
}

gr_status gr_output_release(void) {
  gr_status st = GR_OK;
  for (int i = 0; i < g_n_held && st == GR_OK; i++)
    st = check_not_input(g_held[i].path);
  /* the fatal signals wait until every rename is done: a signal cannot land
   * some outputs and remove the others */
  sigset_t fatal, before;
  sigemptyset(&fatal);
  const int sigs[4] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
  for (int i = 0; i < 4; i++)
    sigaddset(&fatal, sigs[i]);
  sigprocmask(SIG_BLOCK, &fatal, &before);
  while (st == GR_OK && g_n_held) { /* in commit order */
    if (rename(g_held[0].tmp_path, g_held[0].path) != 0) {
      st = gr_fail(GR_ERR_IO, "cannot rename %s to %s: %s", g_held[0].tmp_path, g_held[0].path,
                   strerror(errno));
      break;
    }
    forget_held(0, 0);
  }
  gr_output_drop(); /* after a failure, the rest */
  sigprocmask(SIG_SETMASK, &before, NULL);
  return st;
}

/* Keeps a finished temporary for gr_output_release; takes o's paths. */
static gr_status hold(gr_output_file *o) {
  if (g_n_held == g_cap_held) {
    const int cap = g_cap_held ? 2 * g_cap_held : 8;
    held_output *h = realloc(g_held, sizeof *h * (size_t)cap);
    if (!h) {
      gr_output_abort(o);
      return gr_fail(GR_ERR_NOMEM, "cannot keep the list of outputs");
    }
    g_held = h;
    g_cap_held = cap;
  }
  g_held[g_n_held++] = (held_output){o->path, o->tmp_path, o->slot};
  o->path = o->tmp_path = NULL;
  o->slot = 0;
  return GR_OK;
}

// ---- outputs ------------------------------------------------------------------

gr_status gr_output_probe(const char *path) {
  char *tmp = tmp_name(path);
  if (!tmp) return gr_fail(GR_ERR_NOMEM, "cannot allocate a path");
  const int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
  gr_status st = GR_OK;
  if (fd >= 0) {
    close(fd);
    unlink(tmp);
  } else if (errno != EEXIST) { /* one of this process's own temporaries: writable */
    st = gr_fail(GR_ERR_IO, "cannot write %s: %s", path, strerror(errno));
  }
  free(tmp);
  return st;
}

gr_status gr_output_open(gr_output_file *o, const char *path) {
  memset(o, 0, sizeof *o);
  if (strcmp(path, "-") == 0) {
    o->f = stdout;
    return GR_OK;
  }
  /* a link is followed: the file it names is replaced, not the link */
  struct stat sb;
  char *target = lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode) ? realpath(path, NULL) : NULL;
  const char *dest = target ? target : path;
  gr_status st = GR_OK;
  if (stat(dest, &sb) == 0 && !S_ISREG(sb.st_mode))
    st = gr_fail(GR_ERR_IO, "will not write %s: it is not a regular file", path);
  if (st == GR_OK) st = check_not_input(dest);
  if (st == GR_OK && (!(o->path = strdup(dest)) || !(o->tmp_path = tmp_name(dest))))
    st = gr_fail(GR_ERR_NOMEM, "cannot allocate a path");
  if (st == GR_OK) {
    /* written again in this command: the held temporary is the one reopened;
     * one still being written is a second output to the same file */
    for (int i = 0; i < g_n_held; i++)
      if (strcmp(g_held[i].path, dest) == 0) forget_held(i--, 0);
    for (int s = 0; s < GR_OUTPUT_SLOTS && st == GR_OK; s++)
      if (g_live[s] && strcmp(g_tmp[s], o->tmp_path) == 0)
        st = gr_fail(GR_ERR_INVALID_ARG, "%s is written twice by this command", path);
  }
  free(target);
  if (st != GR_OK) {
    free(o->path);
    free(o->tmp_path);
    o->path = o->tmp_path = NULL;
    return st;
  }
  o->slot = gr_output_guard(o->tmp_path, 0); /* before the file exists: never unguarded */
  o->f = fopen(o->tmp_path, "wb");
  if (!o->f) {
    st = gr_fail(GR_ERR_IO, "cannot write %s: %s", path, strerror(errno));
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
  if (gr_output_holding()) return hold(o);
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
