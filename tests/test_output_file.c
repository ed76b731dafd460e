/* Outputs go through a temporary file and a rename: a commit leaves only
 * the target, an abort nothing; and a process killed by a signal while an
 * output is open (SIGTERM, SIGINT from Ctrl-C) leaves no temporary behind
 * once gr_output_guard_signals is installed, yet still dies of that signal.
 * A signal the process was told to ignore stays ignored. Each case runs in
 * a child process so that the signal ends the child, not the test. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "host/input_file.h"
#include "host/output_file.h"

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* The child: opens path, writes, then raises sig with the output open
 * (ignore: SIG_IGN for sig first, as nohup does, else SIG_DFL); if it survives it
 * commits and exits 0. */
static void child(const char *path, int sig, int ignore) {
  /* the default action unless told otherwise, whatever was inherited (a
   * shell's background job starts with SIGINT ignored) */
  signal(sig, ignore ? SIG_IGN : SIG_DFL);
  gr_output_guard_signals();
  gr_output_file o;
  if (gr_output_open(&o, path) != GR_OK) _exit(3);
  fprintf(o.f, "half of an output\n");
  fflush(o.f);
  if (!exists(o.tmp_path)) _exit(4); /* the temporary must be there to be removed */
  raise(sig);
  _exit(gr_output_commit(&o) == GR_OK ? 0 : 5);
}

static void check_signal(const char *dir, int sig, int ignore) {
  char path[512], tmp[600];
  snprintf(path, sizeof path, "%s/out-%d-%d.csv", dir, sig, ignore);
  fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) child(path, sig, ignore);
  CHECK(pid > 0);
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)pid);
  if (ignore) {
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "signal %d ignored: status %d", sig,
              status);
    CHECK(exists(path) && !exists(tmp));
  } else {
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == sig, "signal %d: status %d", sig, status);
    CHECK_MSG(!exists(tmp), "signal %d left %s behind", sig, tmp);
    CHECK(!exists(path));
  }
  remove(path);
}

static void write_one(const char *path, const char *text) {
  gr_output_file o;
  CHECK_OK(gr_output_open(&o, path));
  if (o.f) fputs(text, o.f);
  CHECK_OK(gr_output_commit(&o));
}

static int holds(const char *path, const char *text) {
  char buf[64] = {0};
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  const size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  return n == strlen(text) && memcmp(buf, text, n) == 0;
}

/* Held outputs: committed files stay temporaries until released (then all
 * land, the second write of a path winning) or dropped (none lands, no
 * temporary is left); a commit at once lands during the hold. */
static void test_hold(const char *dir) {
  char a[512], b[512], c[512], tmp_a[600];
  snprintf(a, sizeof a, "%s/a.csv", dir);
  snprintf(b, sizeof b, "%s/b.csv", dir);
  snprintf(c, sizeof c, "%s/c.ck", dir);
  snprintf(tmp_a, sizeof tmp_a, "%s.tmp.%ld", a, (long)getpid());
  gr_output_hold();
  write_one(a, "first");
  write_one(b, "b");
  CHECK(!exists(a) && !exists(b) && exists(tmp_a));
  write_one(a, "second"); /* the same path again: one temporary, the last text */
  gr_output_at_once_begin();
  write_one(c, "checkpoint");
  gr_output_at_once_end();
  CHECK(exists(c) && !exists(a));
  CHECK_OK(gr_output_release());
  CHECK(holds(a, "second") && holds(b, "b") && !exists(tmp_a));
  /* dropped: the earlier contents stay, the new ones never land */
  gr_output_hold();
  write_one(a, "third");
  write_one(b, "other");
  gr_output_drop();
  CHECK(holds(a, "second") && holds(b, "b") && !exists(tmp_a));
  /* not holding: a commit renames at once */
  write_one(b, "now");
  CHECK(holds(b, "now"));
  remove(a);
  remove(b);
  remove(c);
}

/* An output that is a file read as an input is refused at open, and at
 * release when the input was read after the output was written; through
 * a link too, also at once; an input allowed to be replaced (a checkpoint
 * resumed, a model retrained in place) may be. Two outputs open to one
 * file are refused; a link is followed, not replaced. */
static void test_not_an_input(const char *dir) {
  char in[512], link[512], other[512];
  snprintf(in, sizeof in, "%s/in.csv", dir);
  snprintf(link, sizeof link, "%s/link.csv", dir);
  snprintf(other, sizeof other, "%s/other.csv", dir);
  write_one(in, "input");
  CHECK(symlink(in, link) == 0);
  gr_output_hold();
  write_one(other, "x"); /* lands at release */
  FILE *f = NULL;
  CHECK_OK(gr_input_open(in, &f));
  if (f) fclose(f);
  gr_output_file o;
  CHECK(gr_output_open(&o, link) == GR_ERR_INVALID_ARG);
  CHECK(strstr(gr_last_error(), "it is also an input") != NULL);
  gr_output_at_once_begin();
  CHECK(gr_output_open(&o, in) == GR_ERR_INVALID_ARG);
  gr_input_allow_replace(in);
  write_one(in, "checkpoint");
  gr_output_at_once_end();
  CHECK(holds(in, "checkpoint"));
  CHECK_OK(gr_output_release());
  /* two outputs open to one file, by path or through the link */
  gr_output_file first, second;
  CHECK_OK(gr_output_open(&first, other));
  CHECK(gr_output_open(&second, other) == GR_ERR_INVALID_ARG);
  CHECK(strstr(gr_last_error(), "written twice") != NULL);
  gr_output_abort(&first);
  CHECK_OK(gr_output_open(&first, in));
  CHECK(gr_output_open(&second, link) == GR_ERR_INVALID_ARG);
  gr_output_abort(&first);
  /* a link is followed: its file gets the text, the link stays a link */
  write_one(link, "through the link");
  struct stat ls;
  CHECK(lstat(link, &ls) == 0 && S_ISLNK(ls.st_mode) && holds(in, "through the link"));
  CHECK(holds(other, "x"));
  /* read after its output was written: refused at release, nothing lands */
  gr_output_hold();
  write_one(other, "y");
  f = NULL;
  CHECK_OK(gr_input_open(other, &f));
  if (f) fclose(f);
  CHECK(gr_output_release() == GR_ERR_INVALID_ARG);
  CHECK(holds(other, "x"));
  CHECK(gr_input_open(dir, &f) == GR_ERR_IO && strstr(gr_last_error(), "is a directory"));
  remove(in);
  remove(link);
  remove(other);
}

int main(void) {
  char dir[] = "/tmp/gpurec-output-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  /* commit and abort, no signal */
  char path[512];
  snprintf(path, sizeof path, "%s/plain.csv", dir);
  gr_output_file o;
  CHECK_OK(gr_output_open(&o, path));
  fprintf(o.f, "a,b\n");
  CHECK_OK(gr_output_commit(&o));
  CHECK(exists(path));
  remove(path);
  CHECK_OK(gr_output_open(&o, path));
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s", o.tmp_path);
  gr_output_abort(&o);
  CHECK(!exists(path) && !exists(tmp));
  check_signal(dir, SIGTERM, 0);
  check_signal(dir, SIGINT, 0);
  check_signal(dir, SIGHUP, 1);
  test_hold(dir);
  test_not_an_input(dir);
  rmdir(dir);
  return gr_test_finish();
}
