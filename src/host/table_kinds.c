/* Forced column kinds from --kinds and kinds files; see table_kinds.h. */
#include "table_kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "input_file.h"
#include "output_file.h"

/* The column named name[0..len), -1 if none. */
static int column_named(const gr_table *t, const char *name, size_t len) {
  for (int c = 0; c < t->n_cols; c++)
    if (strlen(t->cols[c].name) == len && strncmp(t->cols[c].name, name, len) == 0) return c;
  return -1;
}

/* The kind named kind[0..len) that can be forced (not id), -1 if none. */
static int kind_named(const char *kind, size_t len) {
  for (int k = GR_COL_SKIP; k <= GR_COL_CATEGORY; k++)
    if (k != GR_COL_ID && strlen(gr_col_kind_name((gr_col_kind)k)) == len &&
        strncmp(gr_col_kind_name((gr_col_kind)k), kind, len) == 0)
      return k;
  return -1;
}

/* One "name=kind" entry at p[0..len), split at its last '=' (kinds hold
 * none, names may). Errors name file:line:column, or --kinds when file is
 * NULL; col0 is the entry's first column in its line. */
static gr_status apply_entry(gr_table *t, const char *p, size_t len, const char *file, long line,
                             int col0, int *forced) {
  char where[512];
  if (file)
    snprintf(where, sizeof where, "%s:%ld:%d", file, line, col0);
  else
    snprintf(where, sizeof where, "--kinds");
  const char *eq = NULL;
  for (size_t k = 0; k < len; k++)
    if (p[k] == '=') eq = p + k;
  if (!eq)
    return gr_fail(GR_ERR_INVALID_ARG, "%s: expected name=kind, found '%.*s'", where, (int)len, p);
  const size_t name_len = (size_t)(eq - p), kind_len = len - name_len - 1;
  const int col = column_named(t, p, name_len);
  if (col < 0) return gr_fail(GR_ERR_INVALID_ARG, "%s: no column '%.*s'", where, (int)name_len, p);
  const int kind = kind_named(eq + 1, kind_len);
  if (kind < 0)
    return gr_fail(GR_ERR_INVALID_ARG,
                   "%s: unknown kind '%.*s' (skip, bool, number, date, category)", where,
                   (int)kind_len, eq + 1);
  if (col == t->id_col)
    return gr_fail(GR_ERR_INVALID_ARG, "%s: the id column is always an id", where);
  t->cols[col].kind = (gr_col_kind)kind;
  forced[col] = 1;
  return GR_OK;
}

static gr_status apply_file(gr_table *t, const char *path, int *forced) {
  FILE *f;
  if (gr_input_open(path, &f) != GR_OK) {
    char why[512];
    snprintf(why, sizeof why, "%s", gr_last_error());
    return gr_fail(GR_ERR_IO, "the kinds file: %s", why);
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  gr_status st = GR_OK;
  for (long no = 1; st == GR_OK && (got = getline(&line, &cap, f)) >= 0; no++) {
    size_t len = (size_t)got;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      len--;
    size_t b = 0; /* a name may hold spaces inside, not around */
    while (b < len && (line[b] == ' ' || line[b] == '\t'))
      b++;
    while (len > b && (line[len - 1] == ' ' || line[len - 1] == '\t'))
      len--;
    if (b == len || line[b] == '#') continue;
    if (memchr(line + b, '\0', len - b)) {
      st = gr_fail(GR_ERR_PARSE, "%s:%ld: a NUL byte in the kinds file", path, no);
      break;
    }
    st = apply_entry(t, line + b, len - b, path, no, (int)b + 1, forced);
  }
  if (st == GR_OK && ferror(f)) st = gr_fail(GR_ERR_IO, "cannot read the kinds file %s", path);
  free(line);
  fclose(f);
  return st;
}

gr_status gr_table_apply_kinds(gr_table *t, const char *path, const char *spec, int *forced) {
  if (path) GR_TRY(apply_file(t, path, forced));
  for (const char *p = spec; p && *p;) {
    const char *comma = strchr(p, ',');
    const size_t len = comma ? (size_t)(comma - p) : strlen(p);
    GR_TRY(apply_entry(t, p, len, NULL, 0, 0, forced));
    p = comma ? comma + 1 : NULL;
  }
  return GR_OK;
}

gr_status gr_table_write_kinds(const gr_table *t, const char *path) {
  gr_output_file out;
  GR_TRY(gr_output_open(&out, path));
  fprintf(out.f, "# column kinds (skip, bool, number, date, category): edit, then pass with "
                 "--kinds-file\n");
  for (int c = 0; c < t->n_cols; c++) {
    if (c == t->id_col) continue;
    if (strchr(t->cols[c].name, '\n') || strchr(t->cols[c].name, '\r')) {
      gr_output_abort(&out);
      return gr_fail(GR_ERR_INVALID_ARG, "column %d's name has a line break: no kinds file", c + 1);
    }
    fprintf(out.f, "%s=%s\n", t->cols[c].name, gr_col_kind_name(t->cols[c].kind));
  }
  return gr_output_commit(&out);
}
