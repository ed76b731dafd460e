/* A planted market for the leads tests: clients concentrate in one region
 * and sector, younger and flagged, so a working pipeline ranks held-out
 * clients high. */
#ifndef GR_TESTS_LEADS_FIXTURE_H
#define GR_TESTS_LEADS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/rng.h"
#include "host/leads.h"

static const char *regions[] = {"SP", "RJ", "MG", "BA", "PR", "RS"};
static const char *sectors[] = {"COMERCIO", "SERVIÇO", "INDUSTRIA", "AGRO, PECUARIA"};

/* n companies; about n_clients of them are clients: mostly region SP and
 * sector INDUSTRIA, younger, with a flag set. client_ids receives theirs. */
static inline char *planted_market(int n, int n_clients, uint64_t seed, char **client_ids) {
  gr_rng rng;
  gr_rng_seed(&rng, seed);
  size_t cap = (size_t)n * 160 + 256, len = 0;
  char *csv = malloc(cap), *ids = malloc((size_t)n_clients * 16 + 16);
  size_t ids_len = (size_t)snprintf(ids, 16, ",id\n");
  len += (size_t)snprintf(csv, cap, ",id,sg_uf,setor,idade,fl_email,dt_abertura,vl_faturamento\n");
  int made = 0;
  for (int r = 0; r < n; r++) {
    const int is_client = made < n_clients && gr_rng_uniform(&rng) < 2.0 * n_clients / n;
    made += is_client;
    const int reg = is_client && gr_rng_uniform(&rng) < 0.8 ? 0 : (int)gr_rng_below(&rng, 6);
    const int sec = is_client && gr_rng_uniform(&rng) < 0.7 ? 2 : (int)gr_rng_below(&rng, 4);
    const double age = (is_client ? 4 : 12) + 3 * gr_rng_normal(&rng);
    const int flag = gr_rng_uniform(&rng) < (is_client ? 0.9 : 0.3);
    const int year = 1990 + (int)gr_rng_below(&rng, 30);
    char rev[32] = "";
    if (gr_rng_uniform(&rng) < 0.7) snprintf(rev, sizeof rev, "%.2f", 1e5 * gr_rng_uniform(&rng));
    len += (size_t)snprintf(csv + len, cap - len, "%d,c%05d,%s,\"%s\",%.3f,%s,%d-0%d-1%d,%s\n", r,
                            r, regions[reg], sectors[sec], age, flag ? "True" : "False", year,
                            1 + (int)gr_rng_below(&rng, 9), (int)gr_rng_below(&rng, 9), rev);
    if (is_client) ids_len += (size_t)snprintf(ids + ids_len, 16, "%d,c%05d\n", made, r);
  }
  *client_ids = ids;
  return csv;
}

static inline gr_table *read_csv_text(const char *text) {
  gr_table *t = NULL;
  CHECK_OK(gr_table_read_csv_mem(&t, "market", text, strlen(text), NULL));
  return t;
}

static inline uint8_t *clients_of(const gr_table *market, const char *ids, int64_t *found) {
  gr_table *pt = read_csv_text(ids);
  uint8_t *client = malloc((size_t)market->n_rows);
  int64_t missing = -1;
  CHECK_OK(gr_leads_mark_clients(market, pt, client, found, &missing, NULL, 0));
  CHECK(missing == 0);
  gr_table_free(pt);
  return client;
}

/* The planted market read as a table, with its client flags. */
typedef struct planted_leads {
  char *csv, *ids;
  gr_table *market;
  uint8_t *client; /* NULL when the market could not be read */
  int64_t found;   /* clients found in the market */
} planted_leads;

static inline void planted_leads_make(planted_leads *p, int n, int n_clients, uint64_t seed) {
  p->csv = planted_market(n, n_clients, seed, &p->ids);
  p->market = read_csv_text(p->csv);
  p->found = 0;
  p->client = p->market ? clients_of(p->market, p->ids, &p->found) : NULL;
}

static inline void planted_leads_free(planted_leads *p) {
  free(p->client);
  gr_table_free(p->market);
  free(p->csv);
  free(p->ids);
}

#endif
