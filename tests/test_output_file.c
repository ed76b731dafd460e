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
  rmdir(dir);
  return gr_test_finish();
}
