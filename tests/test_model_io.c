/* Model files: round trip, and rejection of corrupted, truncated and
 * foreign files with GR_ERR_FORMAT. */
#include <string.h>

#include "check.h"
#include "host/als_model.h"
#include "host/model_io.h"
#include "planted.h"
#include "test_util.h"

static size_t file_bytes(const char *path, unsigned char **out) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *out = malloc((size_t)n);
  size_t got = fread(*out, 1, (size_t)n, f);
  fclose(f);
  return got;
}

static void expect_format_error(const unsigned char *bytes, size_t n, const char *what) {
  gr_als_model *m = NULL;
  gr_status st = gr_als_model_load(&m, write_temp((const char *)bytes, n));
  CHECK_MSG(st == GR_ERR_FORMAT, "%s: got %s (%s)", what, gr_status_str(st), gr_last_error());
  CHECK(m == NULL);
}

int main(void) {
  planted p;
  CHECK(planted_build(&p, 60, 50, 3, 5));
  gr_context *ctx = cpu_test_context(0);
  gr_als_params prm;
  gr_als_params_default(&prm);
  prm.factors = 6;
  prm.iterations = 3;
  prm.alpha = 2.5f;
  prm.log_epsilon = 0.5f;
  gr_als_model *m = NULL, *back = NULL;
  CHECK_OK(gr_als_fit(ctx, &prm, p.x, NULL, NULL, &m));
  if (!m) return gr_test_finish();
  const char *path = write_temp_str("");
  CHECK_OK(gr_als_model_save(m, path));
  CHECK_OK(gr_als_model_load(&back, path));
  if (back) {
    CHECK(back->n_users == m->n_users && back->n_items == m->n_items);
    CHECK(back->params.factors == 6 && back->params.alpha == 2.5f && back->params.iterations == 3);
    CHECK(back->params.log_epsilon == 0.5f);
    CHECK(memcmp(back->user_factors, m->user_factors, sizeof(float) * 60 * 6) == 0);
    CHECK(memcmp(back->item_factors, m->item_factors, sizeof(float) * 50 * 6) == 0);
    CHECK(strcmp(gr_als_model_user_id(back, 7), "u7") == 0);
    CHECK(gr_als_model_find_item(back, "i42") == gr_als_model_find_item(m, "i42"));
    gr_als_model_free(back);
  }
  unsigned char *bytes = NULL;
  const size_t n = file_bytes(path, &bytes);
  CHECK(n > 100);
  /* every single-byte corruption at a spread of offsets is caught */
  for (size_t at = 0; at < n; at += n / 37 + 1) {
    bytes[at] ^= 0x5a;
    expect_format_error(bytes, n, "flipped byte");
    bytes[at] ^= 0x5a;
  }
  expect_format_error(bytes, n / 2, "truncated");
  expect_format_error(bytes, 10, "truncated header");
  expect_format_error(bytes, 0, "empty");
  /* another version or kind, with a valid checksum, is still refused by name */
  unsigned char *other = malloc(n);
  memcpy(other, bytes, n);
  other[8] = 99; /* version */
  expect_format_error(other, n, "version");
  CHECK(contains_text(gr_last_error(), "version"));
  memcpy(other, bytes, n);
  other[16] = 2; /* kind */
  expect_format_error(other, n, "kind");
  CHECK(contains_text(gr_last_error(), "kind"));
  memcpy(other, "NOTMODEL", 8);
  expect_format_error(other, n, "magic");
  CHECK(gr_als_model_load(&back, "/nonexistent/model") == GR_ERR_IO);
  /* a save into a missing directory fails and leaves nothing behind */
  CHECK(gr_als_model_save(m, "/nonexistent/dir/model") == GR_ERR_IO);
  /* a version-2 file (no log_epsilon after confidence_offset) still loads,
   * as linear; the same bytes labelled version 3 are refused */
  const size_t eps_at = 8 + 12 + 16 + 12; /* magic, header, 4 ints, 3 floats */
  float eps;
  memcpy(&eps, bytes + eps_at, 4);
  CHECK(eps == 0.5f);
  unsigned char *v2 = malloc(n);
  memcpy(v2, bytes, eps_at);
  memcpy(v2 + eps_at, bytes + eps_at + 4, n - 8 - eps_at - 4);
  const size_t n2 = n - 4;
  v2[8] = 2;
  uint64_t sum = gr_model_checksum(v2, n2 - 8);
  memcpy(v2 + n2 - 8, &sum, 8);
  CHECK_OK(gr_als_model_load(&back, write_temp((const char *)v2, n2)));
  if (back) {
    CHECK(back->params.log_epsilon == 0.0f && back->params.alpha == 2.5f);
    CHECK(memcmp(back->item_factors, m->item_factors, sizeof(float) * 50 * 6) == 0);
    gr_als_model_free(back);
    back = NULL;
  }
  v2[8] = 3;
  sum = gr_model_checksum(v2, n2 - 8);
  memcpy(v2 + n2 - 8, &sum, 8);
  expect_format_error(v2, n2, "version 3 without log_epsilon");
  free(v2);
  free(other);
  free(bytes);
  gr_als_model_free(m);
  gr_context_free(ctx);
  gr_interactions_free(p.x);
  return gr_test_finish();
}
