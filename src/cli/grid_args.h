/* What the tune commands share: option values given as comma-separated
 * lists, and printing the winning setting back as a command to run. */
#ifndef GR_CLI_GRID_ARGS_H
#define GR_CLI_GRID_ARGS_H

#include <stdio.h>

#define GR_GRID_MAX_VALUES 32 /* per option */

/* A comma-separated list of numbers ("0.1,1,10"). */
typedef struct gr_value_list {
  double v[GR_GRID_MAX_VALUES];
  int n;
} gr_value_list;

/* Parses text into out: numbers in [min, max], integers only when asked;
 * other numbers are read as floats (strtof), the type their options have.
 * @return GR_EXIT_OK, or GR_EXIT_USAGE with "gpurec <command>: <opt> ..." printed. */
int gr_value_list_parse(const char *text, const char *opt, int integers, double min, double max,
                        const char *command, gr_value_list *out);

/* The next word of the comma-separated list at *cursor into word (cap
 * bytes; a longer word comes out empty), *cursor moved past it, NULL after
 * the last. @return 0 when none was left. */
int gr_list_next_word(const char **cursor, char *word, size_t cap);

/* s as one shell word: as it is when it is plain, else in single quotes. */
void gr_print_shell_word(FILE *f, const char *s);

/* The shortest decimal that reads back as the float (is_float) or double v. */
void gr_format_shortest(char *buf, size_t cap, double v, int is_float);

#endif
