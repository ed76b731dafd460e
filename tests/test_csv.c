/* The interactions CSV reader on good and bad input. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/csv.h"
#include "host/interactions.h"
#include "test_util.h"

static gr_interactions *read_ok(const char *text, const gr_csv_options *o) {
  gr_interactions *x = NULL;
  CHECK_OK(gr_interactions_read_csv(&x, write_temp_str(text), o));
  return x;
}

/* Reads text expecting a parse error whose message holds `where` (":line:col:")
 * and `what`. */
static void read_bad(const char *text, const gr_csv_options *o, const char *where,
                     const char *what) {
  gr_interactions *x = NULL;
  const char *path = write_temp_str(text);
  gr_status st = gr_interactions_read_csv(&x, path, o);
  CHECK_MSG(st == GR_ERR_PARSE, "expected a parse error for %s", where);
  CHECK(x == NULL);
  const char *msg = gr_last_error();
  CHECK_MSG(contains_text(msg, path) && contains_text(msg, where) && contains_text(msg, what),
            "message '%s' lacks '%s' / '%s'", msg, where, what);
  gr_interactions_free(x);
}

static void test_basic(void) {
  gr_interactions *x = read_ok("user,item,weight\na,x,1\nb,y,2.5\na,y,3\na,x,1\n", NULL);
  if (!x) return;
  CHECK(gr_interactions_count(x) == 4);
  CHECK(gr_interactions_n_users(x) == 2);
  CHECK(gr_interactions_n_items(x) == 2);
  CHECK(strcmp(gr_interactions_user_id(x, 1), "b") == 0);
  CHECK(strcmp(gr_interactions_item_id(x, 1), "y") == 0);
  gr_interactions_free(x);
}

static void test_dialects(void) {
  /* semicolons, CRLF, a BOM, quoted ids with delimiters and quotes inside */
  gr_interactions *x =
      read_ok("\xEF\xBB\xBFuser;item;weight\r\n\"a;1\";\"say \"\"hi\"\"\";2\r\nb;z;1\r\n", NULL);
  if (x) {
    CHECK(gr_interactions_count(x) == 2);
    CHECK(strcmp(gr_interactions_user_id(x, 0), "a;1") == 0);
    CHECK(strcmp(gr_interactions_item_id(x, 0), "say \"hi\"") == 0);
    gr_interactions_free(x);
  }
  /* tabs, no header: columns are user, item, weight */
  x = read_ok("1\t10\t2\n2\t10\t1\n\n3\t11\t4\n", NULL);
  if (x) {
    CHECK(gr_interactions_count(x) == 3);
    CHECK(gr_interactions_n_items(x) == 2);
    gr_interactions_free(x);
  }
  /* named columns in another order, an extra index column, last line without newline */
  gr_csv_options o;
  gr_csv_options_default(&o);
  o.user_col = "cookie";
  o.item_col = "page";
  o.weight_col = "n";
  x = read_ok(",n,page,cookie\n0,3,p1,c1\n1,1,p2,c1", &o);
  if (x) {
    CHECK(gr_interactions_count(x) == 2);
    CHECK(strcmp(gr_interactions_user_id(x, 0), "c1") == 0);
    CHECK(strcmp(gr_interactions_item_id(x, 1), "p2") == 0);
    gr_interactions_free(x);
  }
}

static void test_events(void) {
  gr_csv_options o;
  gr_csv_options_default(&o);
  o.event_weights = "view=1,cart=4,purchase=10";
  gr_interactions *x = read_ok("user,item,event,timestamp\na,x,view,1700000000\n"
                               "a,y,purchase,2023-11-14\nb,x,cart,2023-11-14 10:00:00\n",
                               &o);
  if (x) {
    CHECK(gr_interactions_count(x) == 3);
    gr_interactions_free(x);
  }
  read_bad("user,item,event\na,x,view\na,y,wishlist\n", &o, ":3:5:", "wishlist");
  /* an event column without weights is an error asking for them */
  read_bad("user,item,event\na,x,view\n", NULL, ":1:1:", "--event-weights");
  /* weights for a file without an event column */
  read_bad("user,item\na,x\n", &o, ":1:1:", "no event column");
  /* '*' weighs every type not listed; 0 drops a type (the clickstream's asset types) */
  o.event_weights = "Gated Get Pricing=5,None=0,*=2";
  o.weight_col = "w";
  x = read_ok("user,item,event,w\na,x,Gated Get Pricing,3\na,y,None,1\nb,x,Gated Ebook Forms,1\n"
              "b,z,Gated Get Pricing,1\n",
              &o);
  if (x) {
    CHECK(gr_interactions_count(x) == 3); /* the None row is dropped */
    const float want[3] = {15, 2, 5};     /* weight column x event weight */
    for (int e = 0; e < 3 && e < x->n; e++)
      CHECK_MSG(x->weight[e] == want[e], "event row %d: weight %g, expected %g", e,
                (double)x->weight[e], (double)want[e]);
    gr_interactions_free(x);
  }
  o.weight_col = NULL;
  const char *bad_lists[2][2] = {{"view=1,*=1,*=2", "'*' is given twice"}, {"view=-1", "[0, 1e9]"}};
  for (int b = 0; b < 2; b++) {
    o.event_weights = bad_lists[b][0];
    const gr_status st =
        gr_interactions_read_csv(&x, write_temp_str("user,item,event\na,x,view\n"), &o);
    CHECK_MSG(st == GR_ERR_INVALID_ARG && strstr(gr_last_error(), bad_lists[b][1]),
              "--event-weights %s: status %d, '%s'", bad_lists[b][0], (int)st, gr_last_error());
  }
}

static void test_bad_input(void) {
  read_bad("", NULL, "", "empty");
  read_bad("user,item,weight\n", NULL, ":2", "expected a row after the header");
  read_bad("user,item,weight\na,x,0\nb,y,0\n", NULL, "", "every one of its 2 rows has weight 0");
  read_bad("user,item,weight\na,x,1\nb,y\n", NULL, ":3:3:", "expected 3 fields, found 2");
  read_bad("user,item,weight\na,x,1\nb,\"y,2\n", NULL, ":3:3:", "unterminated quoted field");
  read_bad("user,item,weight\na,x,abc\n", NULL, ":2:5:", "expected a number");
  read_bad("user,item,weight\na,x,-1\n", NULL, ":2:5:", "negative");
  read_bad("user,item,weight\na,x,nan\n", NULL, ":2:5:", "not finite");
  read_bad("user,item,weight\na,x,inf\n", NULL, ":2:5:", "not finite");
  read_bad("user,item,weight\na,x,1e20\n", NULL, ":2:5:", "too large");
  read_bad("user,item,weight\na,x,2e-94\n", NULL, ":2:5:", "too small"); /* found by fuzzing */
  read_bad("user,item\na,caf\xe9\n", NULL, ":2:6:", "not valid UTF-8 (byte 0xE9)"); /* Latin-1 */
  read_bad("user,item\n\xc3\x28,x\n", NULL, ":2:1:", "not valid UTF-8");
  read_bad("user,item\na,\xed\xa0\x80\n", NULL, ":2:3:", "not valid UTF-8"); /* surrogate */
  read_bad("user,item,weight\n,x,1\n", NULL, ":2:1:", "expected a user id");
  read_bad("user,item,weight\na,x\"y,1\n", NULL, ":2:4:", "unexpected quote");
  const char nul[] = "user,item\na,x\0y\n";
  gr_interactions *x = NULL;
  const char *path = write_temp(nul, sizeof nul - 1);
  CHECK(gr_interactions_read_csv(&x, path, NULL) == GR_ERR_PARSE);
  CHECK(contains_text(gr_last_error(), "NUL"));
  gr_csv_options o;
  gr_csv_options_default(&o);
  o.user_col = "visitor";
  read_bad("user,item\na,x\n", &o, ":1:1:", "--user-col");
  CHECK(gr_interactions_read_csv(&x, "/nonexistent/file.csv", NULL) == GR_ERR_IO);
}

/* UTF-8 ids pass through untouched; a 10 MB line is read, or refused
 * clearly, without a crash. */
static void test_utf8_and_long_lines(void) {
  gr_interactions *x = read_ok("user,item\nJos\xc3\xa9,S\xc3\xa3o Paulo \xf0\x9f\x98\x80\n", NULL);
  if (x) {
    CHECK(strcmp(gr_interactions_user_id(x, 0), "Jos\xc3\xa9") == 0);
    gr_interactions_free(x);
  }
  const size_t n = 10u << 20;
  char *big = malloc(n + 64);
  strcpy(big, "user,item\nu,");
  size_t at = strlen(big);
  memset(big + at, 'i', n);
  strcpy(big + at + n, "\nv,short\n");
  x = read_ok(big, NULL);
  if (x) {
    CHECK(gr_interactions_count(x) == 2);
    CHECK(strlen(gr_interactions_item_id(x, 0)) == n);
    gr_interactions_free(x);
  }
  strcpy(big + at + n, ",7\n"); /* the long line has one field too many */
  read_bad(big, NULL, ":2:", "expected 2 fields, found 3");
  free(big);
}

/* The first byte that breaks UTF-8, one byte at a time (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
static int64_t utf8_reference(const unsigned char *s, size_t len) {
  static const unsigned min[4] = {0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < len;) {
    const unsigned c = s[i];
    size_t n;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
    } else {
      return (int64_t)i;
    }
    if (i + n >= len) return (int64_t)i; /* cut short */
    unsigned cp = c & (0x3Fu >> n);
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return (int64_t)i;
      cp = cp << 6 | (s[i + k] & 0x3Fu);
    }
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return (int64_t)i;
    i += n + 1;
  }
  return -1;
}

/* gr_utf8_invalid_at (ASCII taken eight bytes at a time) against the
 * byte-at-a-time reference: random lengths and alignments, valid sequences
 * of every length, and broken ones anywhere. */
static void test_utf8_scan(void) {
  static const char *const pieces[] = {"a",
                                       "0123456789abcdef",
                                       "\xc3\xa9",
                                       "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80",
                                       "\xc3",
                                       "\xe2\x82",
                                       "\x80",
                                       "\xc0\xaf",
                                       "\xed\xa0\x80",
                                       "\xf4\x90\x80\x80",
                                       "\xff"};
  gr_rng rng;
  gr_rng_seed(&rng, 12);
  unsigned char buf[256];
  int bad = 0;
  for (int t = 0; t < 20000; t++) {
    size_t len = gr_rng_below(&rng, 4); /* an unaligned start */
    memset(buf, 'x', len);
    const int n_pieces = (int)gr_rng_below(&rng, 12);
    for (int k = 0; k < n_pieces; k++) {
      /* mostly valid pieces, so the broken one lands at varied offsets */
      const char *p =
          pieces[gr_rng_below(&rng, 100) < 90 ? gr_rng_below(&rng, 5) : gr_rng_below(&rng, 12)];
      const size_t n = strlen(p);
      if (len + n > sizeof buf) break;
      memcpy(buf + len, p, n);
      len += n;
    }
    const int64_t got = gr_utf8_invalid_at((const char *)buf, len);
    const int64_t want = utf8_reference(buf, len);
    if (got != want && bad++ < 5)
      fprintf(stderr, "utf8 scan: %lld, reference %lld (length %zu)\n", (long long)got,
              (long long)want, len);
  }
  CHECK_MSG(bad == 0, "%d strings scanned differently", bad);
}

static void test_zero_weights_skipped(void) {
  gr_interactions *x = read_ok("user,item,weight\na,x,0\nb,y,2\n", NULL);
  if (!x) return;
  CHECK(gr_interactions_count(x) == 1);
  CHECK(gr_interactions_n_users(x) == 1);
  gr_interactions_free(x);
}

/* More distinct ids than 32-bit indices can hold is a clear error; the
 * check is exercised with a lowered capacity instead of 2^31 real ids. */
static void test_id_capacity(void) {
  gr_interactions *x = NULL;
  CHECK_OK(gr_interactions_create(&x, 0));
  if (!x) return;
  x->users.max_ids = 3;
  int32_t idx = -1;
  CHECK_OK(gr_id_map_intern(&x->users, "a", 1, &idx));
  CHECK_OK(gr_id_map_intern(&x->users, "b", 1, &idx));
  CHECK_OK(gr_id_map_intern(&x->users, "c", 1, &idx));
  CHECK_OK(gr_id_map_intern(&x->users, "a", 1, &idx)); /* known ids still resolve */
  CHECK(idx == 0);
  CHECK(gr_id_map_intern(&x->users, "d", 1, &idx) == GR_ERR_INVALID_ARG);
  CHECK(contains_text(gr_last_error(), "more than 3 distinct ids"));
  gr_interactions_free(x);
}

int main(void) {
  test_basic();
  test_dialects();
  test_events();
  test_bad_input();
  test_zero_weights_skipped();
  test_utf8_and_long_lines();
  test_utf8_scan();
  test_id_capacity();
  return gr_test_finish();
}
