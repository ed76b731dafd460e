/* Option parsing and the shared compute options. */
#include "args.h"
#include "common/error.h"
#include "host/input_file.h"
#include "host/output_file.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void print_help(const char *command, const char *summary, const gr_opt *opts, int n) {
  printf("usage: gpurec %s [options]\n\n%s\n\noptions:\n", command, summary);
  for (int i = 0; i < n; i++) {
    const char *meta = "";
    switch (opts[i].kind) {
    case OPT_FLAG: meta = ""; break;
    case OPT_INT:
    case OPT_I64:
    case OPT_U64: meta = " N"; break;
    case OPT_FLOAT:
    case OPT_DOUBLE: meta = " X"; break;
    case OPT_STR: meta = " S"; break;
    case OPT_OUT: meta = " FILE"; break;
    }
    char left[64];
    snprintf(left, sizeof left, "%s%s", opts[i].name, meta);
    printf("  %-26s %s", left, opts[i].help);
    switch (opts[i].kind) {
    case OPT_INT: printf(" (default %d)", *(int *)opts[i].dst); break;
    case OPT_I64: printf(" (default %lld)", (long long)*(int64_t *)opts[i].dst); break;
    case OPT_U64: printf(" (default %llu)", (unsigned long long)*(uint64_t *)opts[i].dst); break;
    case OPT_FLOAT: printf(" (default %g)", (double)*(float *)opts[i].dst); break;
    case OPT_DOUBLE: printf(" (default %g)", *(double *)opts[i].dst); break;
    case OPT_STR:
    case OPT_OUT:
      if (*(const char **)opts[i].dst) printf(" (default %s)", *(const char **)opts[i].dst);
      break;
    case OPT_FLAG: break;
    }
    putchar('\n');
  }
  printf("  %-26s %s\n", "--help", "show this help");
}

static int bad_value(const char *command, const char *name, const char *what, const char *v) {
  fprintf(stderr, "gpurec %s: %s expects %s, got '%s'\n", command, name, what, v);
  return GR_EXIT_USAGE;
}

/* Outputs that may replace the file an input option names: a model
 * retrained in place, a checkpoint resumed and kept, a kinds file edited. */
static int may_replace(const char *out_opt, const char *in_opt) {
  static const char *const pairs[][2] = {{"--model", "--warm-start"},
                                         {"--model", "--resume"},
                                         {"--checkpoint", "--resume"},
                                         {"--kinds-out", "--kinds-file"}};
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
    if (strcmp(out_opt, pairs[i][0]) == 0 && strcmp(in_opt, pairs[i][1]) == 0) return 1;
  return 0;
}

/* The path as it will be opened: links and ".." resolved in its directory
 * (which must exist); the name kept. NULL when the directory cannot be
 * resolved (the probe then says why). */
static char *resolved(const char *path) {
  char *dir_copy = strdup(path), *base_copy = strdup(path);
  char *out = NULL;
  if (dir_copy && base_copy) {
    char *dir = realpath(dirname(dir_copy), NULL);
    const char *base = basename(base_copy);
    if (dir && (out = malloc(strlen(dir) + strlen(base) + 2))) sprintf(out, "%s/%s", dir, base);
    free(dir);
  }
  free(dir_copy);
  free(base_copy);
  return out;
}

/* One output path against the other options: no two outputs write one
 * file, and an output does not replace the file an input option names
 * (unless may_replace: then the input is marked replaceable). */
static int check_against_others(const char *command, const gr_opt *opts, int n_opts, int i,
                                const char *path, int exists, const struct stat *out) {
  char *mine = resolved(path);
  int rc = GR_EXIT_OK;
  for (int j = 0; j < n_opts && rc == GR_EXIT_OK; j++) {
    if (j == i || (opts[j].kind != OPT_STR && opts[j].kind != OPT_OUT)) continue;
    const char *other = *(const char *const *)opts[j].dst;
    if (!other || strcmp(other, "-") == 0) continue;
    if (opts[j].kind == OPT_OUT) {
      char *theirs = j > i ? resolved(other) : NULL; /* each pair once */
      if (mine && theirs && strcmp(mine, theirs) == 0) {
        fprintf(stderr, "gpurec %s: %s and %s both write %s; give each its own path\n", command,
                opts[i].name, opts[j].name, path);
        rc = GR_EXIT_USAGE;
      }
      free(theirs);
      continue;
    }
    struct stat in;
    if (!exists || stat(other, &in) != 0 || !S_ISREG(in.st_mode) || in.st_dev != out->st_dev ||
        in.st_ino != out->st_ino)
      continue;
    if (may_replace(opts[i].name, opts[j].name)) {
      gr_input_allow_replace(other);
      continue;
    }
    fprintf(stderr, "gpurec %s: %s %s is the file %s names; write it to another path\n", command,
            opts[i].name, path, opts[j].name);
    rc = GR_EXIT_USAGE;
  }
  free(mine);
  return rc;
}

/* An output path is written at the end of a command, which may be minutes
 * of training later: what would stop it is found now. The path must not be
 * a directory, a device or a pipe (standard output is "-"), nor another
 * option's file (check_against_others); a temporary beside it is made and
 * removed (the directory exists and takes files). */
static int check_outputs(const char *command, const gr_opt *opts, int n_opts) {
  for (int i = 0; i < n_opts; i++) {
    const char *path = opts[i].kind == OPT_OUT ? *(const char *const *)opts[i].dst : NULL;
    if (!path || strcmp(path, "-") == 0) continue;
    struct stat out;
    const int exists = stat(path, &out) == 0;
    if (exists && !S_ISREG(out.st_mode)) {
      fprintf(stderr, "gpurec %s: %s %s is %s; give a file path%s\n", command, opts[i].name, path,
              S_ISDIR(out.st_mode) ? "a directory" : "not a regular file (a device or a pipe)",
              S_ISDIR(out.st_mode) ? "" : ", or - for standard output where the option takes it");
      return GR_EXIT_USAGE;
    }
    const int rc = check_against_others(command, opts, n_opts, i, path, exists, &out);
    if (rc != GR_EXIT_OK) return rc;
    if (gr_output_probe(path) != GR_OK) {
      fprintf(stderr, "gpurec %s: %s: %s\n", command, opts[i].name, gr_last_error());
      return GR_EXIT_USAGE;
    }
  }
  return GR_EXIT_OK;
}

int gr_args_parse(int argc, char **argv, const char *command, const char *summary,
                  const gr_opt *opts, int n_opts) {
  for (int a = 0; a < argc; a++) {
    const char *arg = argv[a];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      print_help(command, summary, opts, n_opts);
      return GR_EXIT_HELP;
    }
    /* --name=value or --name value */
    const char *eq = strchr(arg, '=');
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    const gr_opt *o = NULL;
    for (int i = 0; i < n_opts && !o; i++)
      if (strlen(opts[i].name) == name_len && strncmp(opts[i].name, arg, name_len) == 0)
        o = &opts[i];
    if (!o) {
      fprintf(stderr, "gpurec %s: unknown %s '%s' (see gpurec %s --help)\n", command,
              arg[0] == '-' ? "option" : "argument", arg, command);
      return GR_EXIT_USAGE;
    }
    if (o->kind == OPT_FLAG) {
      if (eq) return bad_value(command, o->name, "no value", eq + 1);
      *(int *)o->dst = 1;
      continue;
    }
    const char *v = eq ? eq + 1 : NULL;
    if (!v) {
      if (a + 1 >= argc) {
        fprintf(stderr, "gpurec %s: %s needs a value\n", command, o->name);
        return GR_EXIT_USAGE;
      }
      v = argv[++a];
    }
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case OPT_INT: {
      long x = strtol(v, &end, 10);
      if (!*v || *end || errno || x < -2147483647L || x > 2147483647L)
        return bad_value(command, o->name, "an integer", v);
      *(int *)o->dst = (int)x;
      break;
    }
    case OPT_I64: {
      long long x = strtoll(v, &end, 10);
      if (!*v || *end || errno) return bad_value(command, o->name, "an integer", v);
      *(int64_t *)o->dst = x;
      break;
    }
    case OPT_U64: {
      unsigned long long x = strtoull(v, &end, 10);
      if (!*v || *end || errno || v[0] == '-')
        return bad_value(command, o->name, "a non-negative integer", v);
      *(uint64_t *)o->dst = x;
      break;
    }
    case OPT_FLOAT: {
      float x = strtof(v, &end);
      if (!*v || *end || errno) return bad_value(command, o->name, "a number", v);
      *(float *)o->dst = x;
      break;
    }
    case OPT_DOUBLE: {
      double x = strtod(v, &end);
      if (!*v || *end || errno) return bad_value(command, o->name, "a number", v);
      *(double *)o->dst = x;
      break;
    }
    case OPT_STR:
    case OPT_OUT: *(const char **)o->dst = v; break;
    case OPT_FLAG: break;
    }
  }
  return check_outputs(command, opts, n_opts);
}

void gr_common_args_default(gr_common_args *c) {
  c->device = "auto";
  c->threads = 0;
  c->max_device_mem_mb = 0;
  c->quiet = 0;
}

int gr_common_args_add(gr_opt *opts, int n, gr_common_args *c) {
  opts[n++] = (gr_opt){"--device", OPT_STR, &c->device, "auto, cpu or cuda"};
  opts[n++] = (gr_opt){"--threads", OPT_INT, &c->threads, "CPU threads, 0 = all cores"};
  opts[n++] = (gr_opt){"--max-device-mem", OPT_I64, &c->max_device_mem_mb,
                       "MiB of GPU memory gpurec may use, 0 = what is free"};
  opts[n++] = (gr_opt){"--quiet", OPT_FLAG, &c->quiet, "no progress on stderr"};
  return n;
}

gr_context *gr_common_context(const gr_common_args *c, const char *command) {
  gr_context_options o;
  gr_context_options_default(&o);
  if (strcmp(c->device, "auto") == 0) {
    o.device = GR_DEVICE_AUTO;
  } else if (strcmp(c->device, "cpu") == 0) {
    o.device = GR_DEVICE_CPU;
  } else if (strcmp(c->device, "cuda") == 0 || strcmp(c->device, "gpu") == 0) {
    o.device = GR_DEVICE_CUDA;
  } else {
    fprintf(stderr, "gpurec %s: --device expects auto, cpu or cuda, got '%s'\n", command,
            c->device);
    return NULL;
  }
  if (c->threads < 0 || c->threads > GR_MAX_THREADS) {
    fprintf(stderr, "gpurec %s: --threads must be in 0..%d (0 = all cores), got %d\n", command,
            GR_MAX_THREADS, c->threads);
    return NULL;
  }
  /* MiB into bytes must fit size_t: 2^43 MiB is 8 EiB, beyond any device */
  if (c->max_device_mem_mb < 0 || c->max_device_mem_mb > ((int64_t)1 << 43)) {
    fprintf(stderr, "gpurec %s: --max-device-mem must be in 0..%lld MiB (0 = what is free)\n",
            command, (long long)1 << 43);
    return NULL;
  }
  o.n_threads = c->threads;
  o.max_device_mem = (size_t)c->max_device_mem_mb << 20;
  o.verbose = !c->quiet;
  gr_context *ctx = NULL;
  gr_status st = gr_context_init(&ctx, &o);
  if (st != GR_OK) {
    gr_cli_fail(command, st);
    return NULL;
  }
  return ctx;
}

int gr_cli_fail(const char *command, gr_status st) {
  fprintf(stderr, "gpurec %s: %s: %s\n", command, gr_status_str(st), gr_last_error());
  return st == GR_ERR_INTERRUPTED ? 130 : GR_EXIT_FAIL; /* 130: the shell's code for SIGINT */
}

volatile sig_atomic_t gr_cli_interrupted = 0;
static void (*g_previous_sigint)(int) = SIG_DFL;

static void on_sigint(int sig) {
  gr_cli_interrupted = 1;
  signal(sig, gr_output_on_fatal_signal);
}

void gr_cli_catch_sigint(void) {
  gr_cli_interrupted = 0;
  g_previous_sigint = signal(SIGINT, on_sigint);
}

void gr_cli_release_sigint(void) { signal(SIGINT, g_previous_sigint); }

int gr_confidence_arg(const char *confidence, float epsilon, const char *command,
                      gr_als_params *p) {
  if (strcmp(confidence, "linear") == 0) {
    if (epsilon != 1.0f) { /* 1 is the default: another value was given */
      fprintf(stderr, "gpurec %s: --epsilon applies to --confidence log only\n", command);
      return GR_EXIT_USAGE;
    }
    p->log_epsilon = 0.0f;
    return GR_EXIT_OK;
  }
  if (strcmp(confidence, "log") != 0) {
    fprintf(stderr, "gpurec %s: --confidence expects linear or log, got '%s'\n", command,
            confidence);
    return GR_EXIT_USAGE;
  }
  if (!isfinite(epsilon) || epsilon <= 0) {
    fprintf(stderr, "gpurec %s: --epsilon must be a finite number > 0, got %g\n", command,
            (double)epsilon);
    return GR_EXIT_USAGE;
  }
  p->log_epsilon = epsilon;
  return GR_EXIT_OK;
}
