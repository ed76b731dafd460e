/* Command-line options from a table: each command declares its options
 * once, and parsing, validation messages and --help all come from it. */
#ifndef GR_CLI_ARGS_H
#define GR_CLI_ARGS_H

#include <stdint.h>

#include "gpurec.h"

typedef enum gr_opt_kind {
  OPT_FLAG,
  OPT_INT,
  OPT_I64,
  OPT_U64,
  OPT_FLOAT,
  OPT_DOUBLE,
  OPT_STR,
  /* An output file's path (a const char *; "-" = stdout where the command
   * says so). Checked when parsed, before any work: it can be created, it
   * is not a directory, and it is not the file another option names. */
  OPT_OUT
} gr_opt_kind;

typedef struct gr_opt {
  const char *name; /* "--factors" */
  gr_opt_kind kind;
  void *dst; /* int*, int64_t*, uint64_t*, float*, const char** */
  const char *help;
} gr_opt;

/* Exit codes of the CLI. */
#define GR_EXIT_OK 0
#define GR_EXIT_FAIL 1
#define GR_EXIT_USAGE 2
#define GR_EXIT_HELP (-1) /* --help was printed: exit 0 */

/* Parses argv[0..argc) (after the command words). Positional arguments are
 * refused. @return GR_EXIT_OK, GR_EXIT_USAGE (message printed; also for an
 * OPT_OUT path that cannot be written) or GR_EXIT_HELP. */
int gr_args_parse(int argc, char **argv, const char *command, const char *summary,
                  const gr_opt *opts, int n_opts);

/* The options every compute command shares. */
typedef struct gr_common_args {
  const char *device;
  int threads;
  int64_t max_device_mem_mb;
  int quiet;
} gr_common_args;

void gr_common_args_default(gr_common_args *c);
/* Appends the shared options to opts (room for 4 more entries). */
int gr_common_args_add(gr_opt *opts, int n, gr_common_args *c);
/* Creates the context they describe; prints the error and returns NULL on failure. */
gr_context *gr_common_context(const gr_common_args *c, const char *command);

/* Prints "gpurec <command>: <status>: <message>" for a failed call. */
/* Ctrl-C during a fit: the first sets gr_cli_interrupted, which the fit
 * checks after each iteration (it then fails with GR_ERR_INTERRUPTED: exit
 * status 130, no output written); a second kills at once, removing any
 * temporary output. release restores the handler that was there before. */
extern volatile sig_atomic_t gr_cli_interrupted;
void gr_cli_catch_sigint(void);
void gr_cli_release_sigint(void);

int gr_cli_fail(const char *command, gr_status st);

/* --confidence linear|log with --epsilon into p->log_epsilon (0 = linear);
 * @return GR_EXIT_OK or GR_EXIT_USAGE (message printed). */
int gr_confidence_arg(const char *confidence, float epsilon, const char *command, gr_als_params *p);

#endif
