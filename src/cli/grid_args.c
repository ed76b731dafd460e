/* Lists of option values for the tune commands, and shell words. */
#include "grid_args.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int gr_value_list_parse(const char *text, const char *opt, int integers, double min, double max,
                        const char *command, gr_value_list *out) {
  out->n = 0;
  const char *p = text;
  for (;;) {
    char *end;
    /* the range on the number as written; the value as the fit commands
     * read it (strtof: a float) */
    const double written = strtod(p, &end);
    const double v = integers ? written : (double)strtof(p, NULL);
    const int ok = end != p && (*end == ',' || *end == '\0') && isfinite(written) && isfinite(v) &&
                   written >= min && written <= max && (!integers || v == floor(v));
    if (!ok || out->n == GR_GRID_MAX_VALUES) {
      fprintf(stderr, "gpurec %s: %s expects up to %d comma-separated %s in [%g, %g], got '%s'\n",
              command, opt, GR_GRID_MAX_VALUES, integers ? "integers" : "numbers", min, max, text);
      return GR_EXIT_USAGE;
    }
    out->v[out->n++] = v;
    if (*end == '\0') return GR_EXIT_OK;
    p = end + 1;
  }
}

int gr_list_next_word(const char **cursor, char *word, size_t cap) {
  const char *p = *cursor;
  if (!p) return 0;
  const size_t len = strcspn(p, ",");
  if (len < cap) memcpy(word, p, len);
  word[len < cap ? len : 0] = '\0';
  *cursor = p[len] ? p + len + 1 : NULL;
  return 1;
}

void gr_print_shell_word(FILE *f, const char *s) {
  if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./,=:@%+") ==
                strlen(s)) {
    fputs(s, f);
    return;
  }
  fputc('\'', f);
  for (; *s; s++) {
    if (*s == '\'')
      fputs("'\\''", f); /* close, an escaped quote, reopen */
    else
      fputc(*s, f);
  }
  fputc('\'', f);
}

void gr_format_shortest(char *buf, size_t cap, double v, int is_float) {
  for (int digits = 6; digits <= 17; digits++) {
    snprintf(buf, cap, "%.*g", digits, v);
    if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v) return;
  }
}
