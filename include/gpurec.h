/* gpurec: GPU-accelerated training and scoring for recommender systems.
 *
 * Public C API. Every call returns a gr_status; on failure a human-readable
 * message (with file:line:column for input errors) is available from
 * gr_last_error() on the calling thread. Objects are opaque handles created by
 * gr_<thing>_<action> functions and released by gr_<thing>_free (which accepts
 * NULL). Nothing in the library calls exit(). */
#ifndef GPUREC_H
#define GPUREC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GPUREC_VERSION_MAJOR 0
#define GPUREC_VERSION_MINOR 1
#define GPUREC_VERSION_PATCH 0

/* ---------------------------------------------------------------------------
 * Status codes. The numbers are stable: scripts may rely on them. */
typedef enum gr_status {
  GR_OK = 0,
  GR_ERR_INVALID_ARG = 1,  /* a parameter is out of range or inconsistent */
  GR_ERR_IO = 2,           /* a file could not be opened, read or written */
  GR_ERR_PARSE = 3,        /* malformed input data (message has file:line:col) */
  GR_ERR_NOMEM = 4,        /* host allocation failed */
  GR_ERR_DEVICE_MEM = 5,   /* device allocation failed or would exceed the limit */
  GR_ERR_NO_DEVICE = 6,    /* the CUDA backend was asked for but no GPU is usable */
  GR_ERR_CUDA = 7,         /* a CUDA, cuBLAS or cuSOLVER call failed */
  GR_ERR_NUMERIC = 8,      /* NaN/inf or a failed factorization */
  GR_ERR_FORMAT = 9,       /* a model file is corrupt, truncated or of another kind */
  GR_ERR_INTERNAL = 10,    /* a bug: please report it */
  GR_ERR_INTERRUPTED = 11, /* stopped on request (e.g. SIGINT) after a whole iteration */
} gr_status;

/** @return a static, short name of the status ("ok", "parse error", ...). */
const char *gr_status_str(gr_status s);

/** @return the message of the last failed call on this thread ("" if none).
 * The pointer stays valid until the next failing call on the same thread. */
const char *gr_last_error(void);

/* ---------------------------------------------------------------------------
 * Context: which compute backend runs the kernels. */
typedef enum gr_device {
  GR_DEVICE_AUTO = 0, /* a usable GPU when there is one, else the CPU */
  GR_DEVICE_CPU = 1,
  GR_DEVICE_CUDA = 2,
} gr_device;

/* The most CPU threads a call takes: more only exhausts the machine (each
 * thread has its own stack and scratch), so a larger request is refused. */
#define GR_MAX_THREADS 1024

typedef struct gr_context_options {
  gr_device device;
  int n_threads;         /* CPU threads; 0 = all cores */
  int cuda_device_index; /* which GPU, default 0 */
  size_t max_device_mem; /* bytes of device memory gpurec may use; 0 = free memory */
  int verbose;           /* 1: progress and notices on stderr */
} gr_context_options;

typedef struct gr_context gr_context;

/** Fills opts with defaults (auto device, all cores, verbose). */
void gr_context_options_default(gr_context_options *opts);

/** Creates a context. With GR_DEVICE_AUTO and no usable GPU the CPU is used
 * and a one-line notice is printed when verbose. With GR_DEVICE_CUDA and no
 * usable GPU, returns GR_ERR_NO_DEVICE.
 * @return GR_OK and *out owned by the caller (release with gr_context_free). */
gr_status gr_context_init(gr_context **out, const gr_context_options *opts);
void gr_context_free(gr_context *ctx);
/** @return "cpu" or "cuda": the backend the context runs on. */
const char *gr_context_backend_name(const gr_context *ctx);

/* ---------------------------------------------------------------------------
 * Interactions: user-item events, read from CSV, with string ids mapped to
 * dense indices in order of first appearance. */
typedef struct gr_interactions gr_interactions;

typedef struct gr_csv_options {
  char delimiter;            /* 0 = detect among , ; and tab */
  int has_header;            /* -1 = detect, 0 = no, 1 = yes */
  const char *user_col;      /* header name; NULL = "user" or first column */
  const char *item_col;      /* NULL = "item" or second column */
  const char *weight_col;    /* NULL = "weight" if present */
  const char *event_col;     /* NULL = "event" if present */
  const char *timestamp_col; /* NULL = "timestamp" if present */
  /* event name -> weight, e.g. "view=1,cart=4,purchase=10". Giving it for a
   * file without an event column is an error; an event not in the list is a
   * parse error. The weight column (if any) is multiplied by it. */
  const char *event_weights;
  /* used instead when event_weights is NULL and the file has an event
   * column; NULL makes such a file an error that asks for event_weights */
  const char *default_event_weights;
} gr_csv_options;

void gr_csv_options_default(gr_csv_options *opts);

/** Reads an interactions CSV. Duplicate (user, item) rows are kept as
 * separate events here and summed when a matrix is built.
 * @return GR_OK and *out owned by the caller; GR_ERR_PARSE with
 * "path:line:col: expected ..." on malformed input. */
gr_status gr_interactions_read_csv(gr_interactions **out, const char *path,
                                   const gr_csv_options *opts);
/** The same over data[0..len) in memory; `name` stands for the path in
 * messages (NULL = "<memory>"). The data is copied. */
gr_status gr_interactions_read_csv_mem(gr_interactions **out, const char *name, const void *data,
                                       size_t len, const gr_csv_options *opts);
void gr_interactions_free(gr_interactions *x);
int64_t gr_interactions_count(const gr_interactions *x);
int32_t gr_interactions_n_users(const gr_interactions *x);
int32_t gr_interactions_n_items(const gr_interactions *x);
/** @return the string id of dense user / item index i (owned by x). */
const char *gr_interactions_user_id(const gr_interactions *x, int32_t i);
const char *gr_interactions_item_id(const gr_interactions *x, int32_t i);

/* ---------------------------------------------------------------------------
 * ALS for implicit feedback (Hu, Koren, Volinsky 2008), with the parameter
 * names and the objective of the `implicit` package. */
typedef enum gr_als_solver { GR_SOLVER_CG = 0, GR_SOLVER_CHOLESKY = 1 } gr_als_solver;

typedef struct gr_als_params {
  int factors;          /* default 64 */
  float regularization; /* L2 weight, default 0.01 */
  float alpha;          /* confidence scale, default 1.0 */
  /* confidence of an observed pair is offset + alpha * r; 0 matches the
   * `implicit` package, 1 matches the paper's 1 + alpha * r. Default 0. */
  float confidence_offset;
  /* 0: the confidence above, linear in r. > 0: the paper's alternative,
   * offset + alpha * log(1 + r / eps) with eps this value, which tames
   * heavy users and items (r summed over a pair's events first). Default 0. */
  float log_epsilon;
  int iterations;        /* default 15 */
  gr_als_solver solver;  /* default CG */
  int cg_steps;          /* default 3 */
  uint64_t random_state; /* seed of the initial factors, default 42 */
  int calc_loss;         /* 1: compute the training loss each iteration */
} gr_als_params;

void gr_als_params_default(gr_als_params *p);

typedef struct gr_als_model gr_als_model;

/** Per-iteration report; return non-zero to stop training early. */
typedef int (*gr_als_progress_fn)(int iteration, double seconds, double loss, void *user);

/** Trains a model. The model keeps copies of the id maps of `data`.
 * @return GR_OK and *out owned by the caller (gr_als_model_free). */
gr_status gr_als_fit(gr_context *ctx, const gr_als_params *params, const gr_interactions *data,
                     gr_als_progress_fn progress, void *progress_user, gr_als_model **out);

typedef struct gr_als_train_options {
  gr_als_progress_fn progress; /* optional per-iteration report */
  void *progress_user;
  /* Continue from this model (a checkpoint): its factors are the starting
   * point and training runs its remaining iterations. It must have been
   * trained on data with the same ids, in the same order. NULL = start. */
  const gr_als_model *resume;
  /* Start from this model's factors for the items it knows (matched by id;
   * the data may differ: new events, users and items), the others drawn as
   * usual; then all `iterations` run (each solves the users first, from the
   * item factors). For retraining as
   * data arrives: a few iterations from the last model instead of many from
   * scratch. Same factor count; not with resume. NULL = a cold start. */
  const gr_als_model *warm_start;
  /* Written (temp file + rename) every `checkpoint_every` iterations and
   * when training stops early; NULL = no checkpoints. */
  const char *checkpoint_path;
  int checkpoint_every; /* default 1 */
  /* Polled after each iteration; non-zero stops training with
   * GR_ERR_INTERRUPTED (after writing the checkpoint). May be a signal flag. */
  const volatile sig_atomic_t *stop;
} gr_als_train_options;

void gr_als_train_options_default(gr_als_train_options *o);

/** gr_als_fit with checkpoints, resumption and a stop flag. A run resumed
 * from a checkpoint gives the same model as an uninterrupted run with the
 * same seed, on the same backend. On GR_ERR_INTERRUPTED nothing is
 * returned in *out; the checkpoint holds the finished iterations. */
gr_status gr_als_train(gr_context *ctx, const gr_als_params *params, const gr_interactions *data,
                       const gr_als_train_options *opts, gr_als_model **out);
/** @return how many ALS iterations the model's factors have been through. */
int gr_als_model_iterations_done(const gr_als_model *m);
void gr_als_model_free(gr_als_model *m);

int32_t gr_als_model_n_users(const gr_als_model *m);
int32_t gr_als_model_n_items(const gr_als_model *m);
int gr_als_model_factors(const gr_als_model *m);
const gr_als_params *gr_als_model_params(const gr_als_model *m);
/** @return the string id of dense user / item index i (owned by the model). */
const char *gr_als_model_user_id(const gr_als_model *m, int32_t i);
const char *gr_als_model_item_id(const gr_als_model *m, int32_t i);
/** @return the dense index of a string id, or -1 when unknown. */
int32_t gr_als_model_find_user(const gr_als_model *m, const char *id);
int32_t gr_als_model_find_item(const gr_als_model *m, const char *id);
/** @return row-major factors, (n_users, factors) and (n_items, factors);
 * owned by the model. */
const float *gr_als_model_user_factors(const gr_als_model *m);
const float *gr_als_model_item_factors(const gr_als_model *m);

/** Writes the model (binary, checksummed) to a temporary file and renames it
 * to `path`, so that a failed write never leaves a partial model. */
gr_status gr_als_model_save(const gr_als_model *m, const char *path);
/** Loads and verifies a model; GR_ERR_FORMAT when corrupt or of another kind. */
gr_status gr_als_model_load(gr_als_model **out, const char *path);
/** The same from data[0..len) in memory; `name` stands for the path in messages. */
gr_status gr_als_model_load_mem(gr_als_model **out, const char *name, const void *data, size_t len);

/* ---------------------------------------------------------------------------
 * Ranked outputs. Results are (n_queries, k) arrays of item indices and
 * scores; unused slots (fewer than k candidates) hold index -1, score -inf. */
typedef struct gr_recommend_options {
  int k;                       /* default 10, at most 1024 */
  int exclude_seen;            /* default 1: skip items the user interacted with */
  const uint8_t *item_allowed; /* optional (n_items) mask: only these items */
} gr_recommend_options;

void gr_recommend_options_default(gr_recommend_options *o);

/** Top-k items for users `users[0..n_users)` (dense indices). `seen` supplies
 * the interactions whose items are excluded (usually the training data; NULL
 * excludes nothing). Output arrays hold n_users * k entries. */
gr_status gr_als_recommend(gr_context *ctx, const gr_als_model *m, const int32_t *users,
                           int32_t n_users, const gr_interactions *seen,
                           const gr_recommend_options *opts, int32_t *out_items, float *out_scores);

/** Top-k items most similar (cosine of item factors) to each query item; the
 * query item itself is excluded unless include_self. */
gr_status gr_als_similar(gr_context *ctx, const gr_als_model *m, const int32_t *items,
                         int32_t n_items, int k, int include_self, int32_t *out_items,
                         float *out_scores);

/** Factors of a new or changed user from the items given (dense item indices
 * and raw weights r), against the fixed item factors: the exact solution of
 * that user's normal equations. out has `factors` floats. */
gr_status gr_als_user_factors(const gr_als_model *m, const int32_t *items, const float *weights,
                              int32_t n, float *out);

/** Why items score as they do for a user (Hu, Koren and Volinsky 2008, section 5).
 * With the user's items j (dense indices, raw weights r, duplicates summed),
 * confidences c_j and A = Y^T C Y + reg I, the exact user factors are
 * x = A^-1 sum_j c_j y_j (gr_als_user_factors), so the score of item t is
 * y_t . x = sum_j c_j y_t^T A^-1 y_j: one share per past item. For each of
 * the n_targets items, writes its n_top largest shares, largest first (equal
 * shares by item index): out_items and out_shares are (n_targets, n_top),
 * unused slots -1 and 0; out_scores (n_targets) is the sum of all its shares,
 * y_t . x. For a user in the model, x is the exact solve against the final
 * item factors, so out_scores may differ a little from the model's scores.
 * @return GR_ERR_INVALID_ARG for n < 1, n_top < 1, an index outside the model
 *         or a weight that is not finite and > 0; GR_ERR_NUMERIC when A is not
 *         positive definite. */
gr_status gr_als_explain(const gr_als_model *m, const int32_t *items, const float *weights,
                         int32_t n, const int32_t *targets, int32_t n_targets, int n_top,
                         int32_t *out_items, float *out_shares, double *out_scores);

/** Recommendations for the users of `x` (new, or with changed histories)
 * without retraining: each user's factors solve their normal equations
 * against the fixed item factors (gr_als_user_factors), from the items of
 * `x` the model knows; those items are excluded when opts->exclude_seen.
 * Row u of the outputs belongs to x's user index u (n_users(x) rows). */
gr_status gr_als_recommend_new_users(gr_context *ctx, const gr_als_model *m,
                                     const gr_interactions *x, const gr_recommend_options *opts,
                                     int32_t *out_items, float *out_scores);

/* ---------------------------------------------------------------------------
 * Evaluation. */
typedef struct gr_eval_options {
  int k;               /* cut-off, default 10 */
  float test_fraction; /* per-user share of interactions held out, default 0.2 */
  int by_time;         /* 1: hold out each user's latest interactions */
  uint64_t seed;       /* seed of the split, default 42 */
} gr_eval_options;

void gr_eval_options_default(gr_eval_options *o);

typedef struct gr_metrics {
  int k;
  int64_t n_users;           /* users with at least one test item */
  double precision;          /* mean of hits / k */
  double precision_implicit; /* sum hits / sum min(k, |test|): `implicit`'s */
  double recall;             /* mean of hits / |test| */
  double map;                /* mean of AP@k / min(k, |test|) */
  double ndcg;               /* binary-relevance NDCG@k */
  double hit_rate;           /* share of users with at least one hit */
  double auc;                /* mean per-user ROC AUC over all unseen items */
  int64_t auc_users;         /* users the AUC averages over (all, or an even
                                sample when users x items exceeds 4e8) */
  double coverage;           /* share of the model's items in at least one
                                evaluated user's top k (catalogue coverage) */
} gr_metrics;

/** Splits `all` per user into train and test sets (users with fewer than two
 * interactions stay entirely in train). Both share the id maps of `all`. */
gr_status gr_split(const gr_interactions *all, const gr_eval_options *opts, gr_interactions **train,
                   gr_interactions **test);

/** Scores every user with test items: ranks all items not in `train`. */
gr_status gr_als_evaluate(gr_context *ctx, const gr_als_model *m, const gr_interactions *train,
                          const gr_interactions *test, int k, gr_metrics *out);

/** Writes interactions as CSV `user,item,weight[,timestamp]` (temp + rename). */
gr_status gr_interactions_write_csv(const gr_interactions *x, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* GPUREC_H */
