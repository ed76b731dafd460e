#!/usr/bin/env python3
"""gpurec's leads engine against the Python pipeline it replaces, side by side, in one run.

The Python pipeline is the notebook's: pandas.read_csv, an encoder equal to gpurec's,
scikit-learn KMeans, imbalanced-learn SMOTE and one scikit-learn LogisticRegression per
cluster (a global model for clusters with too few clients or no others), predict_proba,
and a ranking of the companies that are not training clients. Both sides read the same
generated market, hold out the same clients (the ids gpurec writes with --holdout-out)
and use the same hyperparameters and the same number of cores. The bench reports seconds
per stage and end to end (CSV read to ranked leads), MAP/precision/recall at 5, 10, 25,
50 and ROC AUC of both, into a Markdown report and a JSON file beside it.

Exit status: 0 when the bench ran (whether or not the targets were met), 1 on an error
(missing binary, failed command, malformed output), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

# Shared bench helpers (stdlib only): errors, machine description, foreign CPU load.
from als_vs_implicit import (
    BenchError,
    ForeignLoad,
    available_cores,
    blas_info,
    check_binary,
    cpu_model,
    foreign_load_warning,
    gpurec_version,
    log,
    memory_gib,
    run_gpurec,
)

REPO = Path(__file__).resolve().parent.parent
FULL_ROWS = 462298  # the real market's size
DEVICES = ("cpu", "cuda", "auto")
TEST_FRACTION = 0.2
C = 1.0
LOGREG_MAX_ITER = 100  # scikit-learn's default; gpurec's Newton steps at most
SMOTE_K = 5
KMEANS_MAX_ITER = 300
KMEANS_TOL = 1e-4
MAX_MISSING = 0.8
MAX_LEVELS = 20
CUTS = (5, 10, 25, 50)
TARGET_SPEEDUP = 20.0  # Python end to end over gpurec's
# gpurec's table reader: empty cells and any-case "nan"/"null" are missing; nothing else.
NA_VALUES = ["", "nan", "NaN", "NAN", "Nan", "null", "NULL", "Null"]
STAGES = ("read", "encode", "kmeans", "balance", "logreg", "score", "rank")
GPUREC_SECONDS = (*STAGES, "total")


# --------------------------------------------------------------------------- arguments


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Leads: gpurec vs pandas + scikit-learn + imbalanced-learn, per stage and "
        "end to end, with MAP@10 on the same holdout."
    )
    p.add_argument("--gpurec", default=str(REPO / "build" / "gpurec"),
                   help="path of the gpurec binary (default: build/gpurec)")
    p.add_argument("--rows", type=int, default=FULL_ROWS,
                   help="companies in the generated market (default: %(default)s)")
    p.add_argument("--k", type=int, default=8, help="KMeans clusters (default: 8)")
    p.add_argument("--seed", type=int, default=42,
                   help="seed of the market, the holdout, KMeans and SMOTE (default: 42)")
    p.add_argument("--portfolio-index", type=int, default=1,
                   help="which planted portfolio is the client list (default: 1)")
    p.add_argument("--threads", type=int, default=2,
                   help="cores for both sides: gpurec --threads, BLAS/OpenMP for Python "
                   "(default: 2)")
    p.add_argument("--device", choices=DEVICES, default="cpu",
                   help="gpurec's device (default: cpu); Python always runs on the CPU")
    p.add_argument("--uncalibrated", action="store_true",
                   help="pass --uncalibrated to gpurec (no prior correction of the balanced "
                   "models: the notebook's scores)")
    p.add_argument("--repeats", type=int, default=3,
                   help="gpurec runs; the report shows the run with the median end-to-end "
                   "time, and every run must give the same metrics (default: 3). The Python "
                   "pipeline runs once: a minute, against gpurec's seconds, so its noise "
                   "matters less")
    p.add_argument("--skip-python", action="store_true",
                   help="run gpurec only (the report has no Python column)")
    p.add_argument("--workdir", default="/tmp/gpurec_leads_bench",
                   help="where the market and raw outputs go (default: %(default)s)")
    p.add_argument("--out", default=None,
                   help="Markdown report path; a .json is written beside it (default: "
                   "bench/results/leads_<device>_<date>.md; other row counts add _<rows>rows)")
    p.add_argument("--note", action="append", default=[], dest="notes",
                   help="a line for the report's Notes (e.g. what else ran on the machine); "
                   "repeatable")
    args = p.parse_args(argv)
    if min(args.rows, args.k, args.threads, args.portfolio_index, args.repeats) < 1:
        p.error("--rows, --k, --threads, --portfolio-index and --repeats must be positive")
    if args.seed < 0:
        p.error("--seed must be >= 0")
    return args


def limit_threads(n: int) -> None:
    """BLAS and OpenMP pools read these when numpy and scikit-learn load: set them first."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def import_peers():
    try:
        import imblearn
        import numpy
        import pandas
        import sklearn
        import threadpoolctl
    except ImportError as exc:
        raise BenchError(
            f"{exc}. Install the peers with bench/setup_venv.sh and run this "
            "script with bench/.venv/bin/python (or use bench/run_leads_bench.sh)"
        ) from exc
    return numpy, pandas, sklearn, imblearn, threadpoolctl


# --------------------------------------------------------------------------- gpurec side


def generate_market(binary: Path, args, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    market = work / "market.csv"
    wall = run_gpurec(
        binary,
        ["gen", "market", "--rows", str(args.rows), "--seed", str(args.seed),
         "--out", str(market), "--portfolio-prefix", str(work / "portfolio")],
        work / "gen.log",
    )
    portfolio = work / f"portfolio{args.portfolio_index}.csv"
    if not portfolio.is_file():
        raise BenchError(f"`gpurec gen market` wrote no {portfolio} (see {work / 'gen.log'})")
    return {"market": market, "portfolio": portfolio, "gen_seconds": wall,
            "market_mb": market.stat().st_size / 1e6}


def parse_gpurec_log(text: str) -> dict:
    """Figures gpurec prints on stderr but not in its JSON (features, KMeans, training sets)."""
    out: dict = {}
    m = re.search(r"encoded (\d+) companies into (\d+) features", text)
    if m:
        out["features"] = int(m.group(2))
    m = re.search(r"KMeans, (\d+) clusters, inertia (\S+), (\d+) iterations", text)
    if m:
        out["kmeans_inertia"] = float(m.group(2))
        out["kmeans_iterations"] = int(m.group(3))
    m = re.search(r"(\d+) training sets, (\d+) rows \((\d+) synthetic", text)
    if m:
        out["training_sets"] = int(m.group(1))
        out["training_rows"] = int(m.group(2))
        out["synthetic_rows"] = int(m.group(3))
    out["global_model"] = "one of them global" in text
    m = re.search(r"Newton steps((?: \d+)+)", text)
    if m:
        out["newton_steps"] = [int(x) for x in m.group(1).split()]
    m = re.search(r"portfolio ids are not in the market", text)
    out["portfolio_ids_missing"] = bool(m)
    return out


def run_gpurec_eval(binary: Path, files: dict, args, work: Path) -> dict:
    json_path, holdout = work / "gpurec_eval.json", work / "holdout.csv"
    json_path.unlink(missing_ok=True)
    holdout.unlink(missing_ok=True)
    argv = [
        "leads", "eval", "--market", str(files["market"]), "--portfolio", str(files["portfolio"]),
        "--k", str(args.k), "--balance", "smote", "--smote-k", str(SMOTE_K), "--C", repr(C),
        "--seed", str(args.seed), "--eval-seed", str(args.seed),
        "--test-fraction", str(TEST_FRACTION), "--n-init", "1",
        "--kmeans-max-iter", str(KMEANS_MAX_ITER), "--kmeans-tol", repr(KMEANS_TOL),
        "--max-missing", repr(MAX_MISSING), "--max-levels", str(MAX_LEVELS),
        "--json", str(json_path), "--holdout-out", str(holdout),
        "--threads", str(args.threads), "--device", args.device,
    ] + (["--uncalibrated"] if args.uncalibrated else [])
    log_path = work / "gpurec_eval.log"
    load = ForeignLoad()
    wall = run_gpurec(binary, argv, log_path)
    foreign = load.share()
    try:
        report = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot read gpurec's JSON report {json_path}: {exc}") from exc
    need = ["map", "precision", "recall", "auc", "seconds", "n_train", "n_test", "backend"]
    missing = [k for k in need if k not in report]
    missing += [f"seconds.{s}" for s in GPUREC_SECONDS if s not in report.get("seconds", {})]
    if missing:
        raise BenchError(f"{json_path} lacks the keys {', '.join(missing)}")
    if not holdout.is_file():
        raise BenchError(f"gpurec wrote no holdout file {holdout}")
    return {
        "backend": report["backend"],
        "seconds": {s: float(report["seconds"][s]) for s in GPUREC_SECONDS},
        "process_seconds": wall,
        "metrics": metrics_from_gpurec(report),
        "in_sample": report.get("in_sample"),
        "n_train": int(report["n_train"]),
        "n_test": int(report["n_test"]),
        "log": parse_gpurec_log(log_path.read_text()),
        "holdout": holdout,
        "foreign_cpu_share": foreign,
        "command": shlex.join([str(binary), *argv]),
    }


def metrics_from_gpurec(report: dict) -> dict:
    out = {"auc": float(report["auc"])}
    for name in ("map", "precision", "recall"):
        for k in CUTS:
            out[f"{name}@{k}"] = float(report[name][str(k)])
    return out


# --------------------------------------------------------------------------- Python side


class Stopwatch:
    """Wall seconds per named stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


def infer_kind(pd, s) -> str:
    """A column's kind as gpurec's table reader infers it: bool, number, date or category."""
    values = s.dropna()
    if len(values) == 0 or s.dtype == bool:
        return "bool"  # gpurec: an all-missing column allows every kind, bool first
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "number"
    text = pd.Series(pd.unique(values)).astype(str)  # each distinct value once
    if text.str.fullmatch(r"(?i)true|false").all():
        return "bool"
    if text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all() and (
        pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").notna().all()
    ):
        return "date"
    return "category"


def numeric_values(np, pd, s, kind: str):
    """float64 values (NaN = missing): booleans 0/1, dates as days since 1970."""
    if kind == "bool":
        truth = {x: float(str(x).lower() == "true") for x in pd.unique(s.dropna())}
        return s.map(truth).to_numpy(dtype=np.float64, na_value=np.nan)
    if kind == "date":
        d = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
        days = (d - pd.Timestamp("1970-01-01")).dt.days
        return days.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def fit_numeric(np, v, kind: str, reference_day: float) -> dict | None:
    """gpurec's numeric rule: median fill, missing flag, population standardization."""
    if kind == "date":
        v = (reference_day - v) / 365.25
    missing = np.isnan(v)
    known = v[~missing]
    fill = 0.0 if kind == "bool" or known.size == 0 else float(np.median(known))
    filled = np.where(missing, fill, v)
    mean = float(filled.mean())
    var = float((filled * filled).mean()) - mean * mean
    indicator = bool(missing.any())
    if not var > 1e-12 * (1 + mean * mean) and not indicator:
        return None  # constant
    scale = float(np.sqrt(var)) if var > 0 else 1.0
    if kind == "bool":
        mean, scale = 0.0, 1.0
    return {"values": (filled - mean) / scale, "missing": missing if indicator else None,
            "width": 1 + indicator}


def fit_one_hot(np, pd, s) -> dict | None:
    """gpurec's one-hot rule: the 20 most frequent levels (ties: first seen), other, missing."""
    codes, uniques = pd.factorize(s)  # levels in order of first appearance; -1 = missing
    L = len(uniques)
    indicator = bool((codes < 0).any())
    if L <= 1 and not indicator:
        return None
    counts = np.bincount(codes[codes >= 0], minlength=L)
    order = np.argsort(-counts, kind="stable")
    kept = min(L, MAX_LEVELS)
    other = L > kept
    feature = np.full(L, kept if other else -1, dtype=np.int64)
    feature[order[:kept]] = np.arange(kept)
    col = np.where(codes >= 0, feature[np.maximum(codes, 0)], kept + other if indicator else -1)
    return {"feature": col, "width": kept + other + indicator}


def encode(np, pd, df, id_col: str = "id"):
    """The market as gpurec encodes it: (n, d) float32 and the per-column decisions."""
    n = len(df)
    kinds = {}
    for name in df.columns:
        if name == id_col or (name == df.columns[0] and name.startswith("Unnamed:")):
            continue
        kinds[name] = infer_kind(pd, df[name])
    values = {name: numeric_values(np, pd, df[name], k)
              for name, k in kinds.items() if k != "category"}
    dates = [v[~np.isnan(v)] for name, v in values.items() if kinds[name] == "date"]
    reference_day = max([0.0] + [float(d.max()) for d in dates if d.size])
    blocks, decisions = [], {}
    for name, kind in kinds.items():
        missing_rate = float(df[name].isna().mean())
        if missing_rate > MAX_MISSING:
            decisions[name] = (kind, "dropped: missing", 0)
            continue
        b = fit_one_hot(np, pd, df[name]) if kind == "category" else fit_numeric(
            np, values[name], kind, reference_day)
        decisions[name] = (kind, "dropped: constant" if b is None else "kept",
                           0 if b is None else b["width"])
        if b is not None:
            blocks.append(b)
    d = sum(b["width"] for b in blocks)
    X = np.zeros((n, d), dtype=np.float32)
    at, rows = 0, np.arange(n)
    for b in blocks:
        if "values" in b:
            X[:, at] = b["values"]
            if b["missing"] is not None:
                X[:, at + 1] = b["missing"]
        else:
            hit = b["feature"] >= 0
            X[rows[hit], at + b["feature"][hit]] = 1.0
        at += b["width"]
    return X, decisions


def read_ids(pd, path: Path):
    ids = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "id" not in ids.columns:
        raise BenchError(f"{path} has no id column")
    return set(ids["id"])


def ranking_metrics(np, ranked, relevant) -> dict:
    """gpurec's definitions: precision = hits/k, recall = hits/|T|,
    MAP = AP@k / min(k, |T|) (docs/metrics.md)."""
    out = {}
    n_rel = int(relevant.sum())
    for k in CUTS:
        hit = relevant[ranked[:k]]
        hits = np.cumsum(hit)
        ap = float((hits[hit] / (np.flatnonzero(hit) + 1)).sum())
        out[f"map@{k}"] = ap / min(k, n_rel) if n_rel else 0.0
        out[f"precision@{k}"] = float(hit.sum()) / k
        out[f"recall@{k}"] = float(hit.sum()) / n_rel if n_rel else 0.0
    return out


def run_python(peers, files: dict, holdout: Path, args) -> dict:
    np, pd, sklearn, imblearn, threadpoolctl = peers
    from imblearn.over_sampling import SMOTE
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    sw = Stopwatch()
    load = ForeignLoad()
    with threadpoolctl.threadpool_limits(limits=args.threads):
        t_start = time.perf_counter()
        t0 = t_start
        df = pd.read_csv(files["market"], keep_default_na=False, na_values=NA_VALUES,
                         low_memory=False)
        clients = read_ids(pd, files["portfolio"])
        held_out = read_ids(pd, holdout)
        ids = df["id"].astype(str)
        client = ids.isin(clients).to_numpy()
        test = ids.isin(held_out).to_numpy()
        train = client & ~test
        sw.add("read", time.perf_counter() - t0)
        log(f"  python: read {len(df)} rows x {df.shape[1]} columns "
            f"({sw.seconds['read']:.2f} s)")

        t0 = time.perf_counter()
        X, decisions = encode(np, pd, df)
        del df
        sw.add("encode", time.perf_counter() - t0)
        log(f"  python: encoded into {X.shape[1]} features ({sw.seconds['encode']:.2f} s)")

        t0 = time.perf_counter()
        km = KMeans(n_clusters=args.k, init="k-means++", n_init=1, max_iter=KMEANS_MAX_ITER,
                    tol=KMEANS_TOL, random_state=args.seed).fit(X)
        labels = km.labels_
        sw.add("kmeans", time.perf_counter() - t0)
        log(f"  python: KMeans {km.n_iter_} iterations, inertia {km.inertia_:.6g} "
            f"({sw.seconds['kmeans']:.2f} s)")

        convergence_warnings = 0
        lbfgs_iterations = []

        def fit_group(rows):
            """SMOTE up to the non-clients when they outnumber the clients, then logreg."""
            nonlocal convergence_warnings
            t0 = time.perf_counter()
            Xg, yg = X[rows], train[rows].astype(np.int8)
            pos = int(yg.sum())
            synthetic = 0
            if pos >= 2 and len(yg) - pos > pos:
                # gpurec caps the neighbours at n_pos - 1; imbalanced-learn would refuse
                sm = SMOTE(k_neighbors=min(SMOTE_K, pos - 1), random_state=args.seed)
                Xb, yb = sm.fit_resample(Xg, yg)
                synthetic = len(yb) - len(yg)
            else:
                Xb, yb = Xg, yg
            sw.add("balance", time.perf_counter() - t0)
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                model = LogisticRegression(C=C, max_iter=LOGREG_MAX_ITER).fit(Xb, yb)
            convergence_warnings += sum(issubclass(w.category, ConvergenceWarning)
                                        for w in caught)
            lbfgs_iterations.append(int(model.n_iter_[0]))
            sw.add("logreg", time.perf_counter() - t0)
            # gpurec's prior correction (King and Zeng) undoes the balancing's odds shift
            others = len(yg) - pos
            shift = float(np.log(pos / others)) if others > pos else 0.0
            return (model, shift), {"rows": int(len(yg)), "clients": pos,
                                    "synthetic": synthetic}

        sw.seconds.setdefault("balance", 0.0)
        sw.seconds.setdefault("logreg", 0.0)
        models, groups, model_of = {}, [], {}
        for c in range(args.k):
            rows = np.flatnonzero(labels == c)
            pos = int(train[rows].sum())
            if pos >= 2 and len(rows) - pos >= 1:
                models[c], g = fit_group(rows)
                groups.append({"cluster": c, **g})
                model_of[c] = c
            else:
                model_of[c] = "global"
                groups.append({"cluster": c, "rows": int(len(rows)), "clients": pos,
                               "model": "global"})
        if "global" in model_of.values():
            models["global"], g = fit_group(np.arange(len(X)))
            groups.append({"cluster": "global", **g})
        log(f"  python: {len(models)} logistic regressions, balance "
            f"{sw.seconds['balance']:.2f} s, logreg {sw.seconds['logreg']:.2f} s, "
            f"{convergence_warnings} convergence warnings")

        t0 = time.perf_counter()
        prob = np.empty(len(X))
        for c in range(args.k):
            rows = np.flatnonzero(labels == c)
            if rows.size:
                prob[rows] = models[model_of[c]][0].predict_proba(X[rows])[:, 1]
        sw.add("score", time.perf_counter() - t0)

        t0 = time.perf_counter()
        candidates = np.flatnonzero(~train)
        ranked = candidates[np.argsort(-prob[candidates], kind="stable")]  # ties: lower row
        sw.add("rank", time.perf_counter() - t0)
        end_to_end = time.perf_counter() - t_start

        t0 = time.perf_counter()
        metrics = ranking_metrics(np, ranked, test)
        keep = ~train
        metrics["auc"] = float(roc_auc_score(test[keep], prob[keep]))
        metrics_seconds = time.perf_counter() - t0

        # Not timed, not the notebook: the same models with gpurec's prior correction
        # (intercept + log(clients / others) where balancing raised the clients' odds).
        logit = np.empty(len(X))
        for c in range(args.k):
            rows = np.flatnonzero(labels == c)
            if rows.size:
                model, shift = models[model_of[c]]
                logit[rows] = model.decision_function(X[rows]) + shift
        order = np.lexsort((candidates, -logit[candidates]))
        corrected = ranking_metrics(np, candidates[order], test)
        corrected["auc"] = float(roc_auc_score(test[keep], logit[keep]))

    kinds: dict[str, int] = {}
    for kind, _, _ in decisions.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "seconds": {s: sw.seconds.get(s, 0.0) for s in STAGES},
        "end_to_end_seconds": end_to_end,
        "metrics_seconds": metrics_seconds,
        "metrics": metrics,
        "metrics_prior_corrected": corrected,
        "n_train": int(train.sum()),
        "n_test": int(test.sum()),
        "n_clients_in_market": int(client.sum()),
        "features": int(X.shape[1]),
        "column_kinds": kinds,
        "columns_dropped": sum(w == 0 for _, _, w in decisions.values()),
        "kmeans_iterations": int(km.n_iter_),
        "kmeans_inertia": float(km.inertia_),
        "groups": groups,
        "training_rows": sum(g["rows"] + g.get("synthetic", 0) for g in groups
                             if "model" not in g),
        "synthetic_rows": sum(g.get("synthetic", 0) for g in groups),
        "convergence_warnings": convergence_warnings,
        "lbfgs_iterations": lbfgs_iterations,
        "foreign_cpu_share": load.share(),
    }


# --------------------------------------------------------------------------- report


def environment(peers, binary: Path) -> dict:
    env = {
        "cpu": cpu_model(),
        "cores": available_cores(),
        "logical_cpus": os.cpu_count(),
        "memory_gib": memory_gib(),
        "load_average_at_start": os.getloadavg(),
        "os": platform.platform(),
        "versions": {"gpurec": gpurec_version(binary), "python": platform.python_version()},
    }
    if peers:
        np, pd, sklearn, imblearn, threadpoolctl = peers
        env["versions"] |= {
            "pandas": pd.__version__, "scikit-learn": sklearn.__version__,
            "imbalanced-learn": imblearn.__version__, "numpy": np.__version__,
            "threadpoolctl": threadpoolctl.__version__, "blas": blas_info(threadpoolctl),
        }
    return env


def compare(g: dict, py: dict | None) -> dict | None:
    if py is None:
        return None
    speedup = py["end_to_end_seconds"] / max(g["seconds"]["total"], 1e-12)
    gm, pm = g["metrics"]["map@10"], py["metrics"]["map@10"]
    return {
        "stage_ratio": {s: py["seconds"][s] / g["seconds"][s] if g["seconds"][s] > 0 else None
                        for s in STAGES},
        "end_to_end_speedup": speedup,
        "process_speedup": py["end_to_end_seconds"] / max(g["process_seconds"], 1e-12),
        "map10_diff": gm - pm,
        "speed_ok": speedup >= TARGET_SPEEDUP,
        "map_ok": gm >= pm,
        "target_met": speedup >= TARGET_SPEEDUP and gm >= pm,
    }


def fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def fmt_x(x: float | None) -> str:
    return "-" if x is None else f"x{x:.1f}" if x >= 10 else f"x{x:.2f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def target_line(c: dict) -> str:
    return (f"end to end x{c['end_to_end_speedup']:.1f} (target >= {TARGET_SPEEDUP:.0f}) "
            f"{verdict(c['speed_ok'])}; MAP@10 gpurec - Python {c['map10_diff']:+.4f} "
            f"(target >= 0) {verdict(c['map_ok'])} -> {verdict(c['target_met'])}")


def render_markdown(r: dict) -> str:
    p, d, e, g, py, c = (r["params"], r["data"], r["environment"], r["gpurec"], r["python"],
                         r["comparison"])
    v = e["versions"]
    stage_names = {"balance": "balance (SMOTE)", "read": "read (CSV)"}
    lines = [
        f"# Leads: gpurec vs pandas + scikit-learn + imbalanced-learn, {p['rows']} rows, "
        f"gpurec on {p['device']}",
        "",
    ]
    if c:
        lines += [f"Date: {r['date']}. Overall: **{verdict(c['target_met'])}** (end to end at "
                  f"least {TARGET_SPEEDUP:.0f}x faster than the Python pipeline on the same "
                  f"{p['threads']} cores, at equal or better MAP@10). {target_line(c)}.", ""]
    else:
        lines += [f"Date: {r['date']}. gpurec only (--skip-python).", ""]
    lines += [
        "## Setup",
        "",
        f"- Machine: {e['cpu']}, {e['cores']} cores usable ({e['logical_cpus']} logical CPUs), "
        f"{e['memory_gib']} GiB memory; {e['os']}. Load average at the start "
        f"{', '.join(f'{x:.2f}' for x in e['load_average_at_start'])}.",
        "- Versions: " + ", ".join(v[k] if k == "gpurec" else f"{k} {v[k]}"
                                   for k in v if k != "blas")
        + (f"; BLAS {', '.join(v['blas']) or 'none found'}" if "blas" in v else ""),
        f"- Data: `gpurec gen market --rows {p['rows']} --seed {p['seed']}` "
        f"({d['market_mb']:.0f} MB, {d['gen_seconds']:.1f} s to generate); clients: "
        f"portfolio {p['portfolio_index']}, {g['n_train'] + g['n_test']} in the market, "
        f"{g['n_test']} held out ({TEST_FRACTION:.0%}, `--eval-seed {p['seed']}`), "
        f"{g['n_train']} to fit on. The Python side reads the held-out ids gpurec wrote.",
        f"- Both: KMeans k={p['k']}, k-means++, n_init=1, max_iter={KMEANS_MAX_ITER}, "
        f"tol={KMEANS_TOL}, seed {p['seed']}; per cluster with >= 2 clients and >= 1 other "
        f"company SMOTE (k_neighbors={SMOTE_K}, capped at clients - 1) up to the number of "
        f"others, then L2 logistic regression C={C}; other clusters use a global model fitted "
        f"the same way on all rows; encoder: columns missing > {MAX_MISSING:.0%} and constant "
        f"ones dropped, median fill + missing flag + population standardization for numbers "
        f"and dates, 0/1 booleans, one-hot over {MAX_LEVELS} levels + other + missing.",
        f"- Solvers differ: gpurec's logistic regression is Newton's method (tolerance 1e-6 on "
        f"the gradient, at most {LOGREG_MAX_ITER} steps); scikit-learn's default lbfgs with "
        f"max_iter={LOGREG_MAX_ITER}. Random streams differ (KMeans++ seeding, SMOTE samples), "
        f"so clusters and synthetic rows are not identical.",
        f"- Cores: gpurec `--threads {p['threads']}`; Python with OMP/OPENBLAS/MKL_NUM_THREADS="
        f"{p['threads']} and threadpoolctl limits={p['threads']}.",
        f"- gpurec: `{g['command']}`, run {len(g['run_totals'])} times; the columns below "
        f"are run {g['run_chosen']}, the median end to end (runs: "
        f"{', '.join(fmt_s(t) for t in g['run_totals'])}), every run with the same metrics.",
        f"- Bench: `{r['command']}`",
        "",
        "## Seconds per stage",
        "",
        "| stage | gpurec | Python | Python / gpurec |",
        "|---|---:|---:|---:|",
    ]
    for s in STAGES:
        ps = py["seconds"][s] if py else None
        lines.append(f"| {stage_names.get(s, s)} | {fmt_s(g['seconds'][s])} | {fmt_s(ps)} | "
                     f"{fmt_x(c['stage_ratio'][s]) if c else '-'} |")
    lines.append(
        f"| **end to end** (CSV read to ranked leads) | **{fmt_s(g['seconds']['total'])}** | "
        f"**{fmt_s(py['end_to_end_seconds']) if py else '-'}** | "
        f"**{fmt_x(c['end_to_end_speedup']) if c else '-'}** |")
    lines.append(f"| gpurec process wall time (start to exit) | {fmt_s(g['process_seconds'])} | "
                 f"| {fmt_x(c['process_speedup']) if c else '-'} |")
    lines += [
        "",
        "gpurec's end to end is its JSON `total`: market read, portfolio read, fit, scoring, "
        "ranking and the evaluation (held-out and in-sample metrics), so it is slightly "
        "more work than the Python side's, which stops at the ranked leads "
        + (f"(its metrics took another {fmt_s(py['metrics_seconds'])})." if py else "."),
        "gpurec's `read` is the market CSV only; Python's also holds the portfolio and "
        "holdout ids. `balance` is building the per-cluster training sets with SMOTE.",
        "",
        "## Lead quality on the same holdout",
        "",
        "| metric | gpurec | Python | gpurec - Python | Python + prior correction |",
        "|---|---:|---:|---:|---:|",
    ]
    keys = ["map@10"] + [f"{m}@{k}" for m in ("map", "precision", "recall") for k in CUTS
                         if f"{m}@{k}" != "map@10"] + ["auc"]
    for k in keys:
        gv = g["metrics"][k]
        pv = py["metrics"][k] if py else None
        cv = py["metrics_prior_corrected"][k] if py else None
        name = f"**{k.upper()}**" if k == "map@10" else k
        lines.append(f"| {name} | {gv:.4f} | {'-' if pv is None else f'{pv:.4f}'} | "
                     f"{'-' if pv is None else f'{gv - pv:+.4f}'} | "
                     f"{'-' if cv is None else f'{cv:.4f}'} |")
    lines += [
        "",
        "Definitions as gpurec's (docs/metrics.md): MAP@k = AP@k / min(k, held-out clients), "
        "precision@k = hits / k, recall@k = hits / held-out clients, over the ranking of every "
        "company that is not a training client; ROC AUC of the held-out clients against every "
        "non-client (Python: sklearn `roc_auc_score` over the rows that are not training "
        "clients).",
        "",
        "gpurec " + ("ran with `--uncalibrated`: the notebook's scores, as the Python column."
                     if p["uncalibrated"] else
                     "ran with its default prior correction: each balanced model's intercept "
                     "is moved by log(clients / others) of its training set (King and Zeng), "
                     "so scores compare across clusters; the notebook (the Python column) "
                     "ranks the balanced models' 50%-prior probabilities as they are.")
        + " The last column is not timed and not the notebook: Python's models with the "
        "same correction, to separate what the method changes from what the implementation "
        "changes.",
        "",
        "## The fits",
        "",
        "| | gpurec | Python |",
        "|---|---:|---:|",
    ]
    gl = g["log"]

    def row(name, gv, pv):
        lines.append(f"| {name} | {'-' if gv is None else gv} | {'-' if pv is None else pv} |")

    row("features after encoding", gl.get("features"), py and py["features"])
    row("KMeans iterations", gl.get("kmeans_iterations"), py and py["kmeans_iterations"])
    row("KMeans inertia", gl.get("kmeans_inertia") and f"{gl['kmeans_inertia']:.6g}",
        py and f"{py['kmeans_inertia']:.6g}")
    row("training rows (all groups, with synthetic)", gl.get("training_rows"),
        py and py["training_rows"])
    row("synthetic clients (SMOTE)", gl.get("synthetic_rows"), py and py["synthetic_rows"])
    row("Newton steps per model", gl.get("newton_steps") and " ".join(
        str(i) for i in gl["newton_steps"]), None)
    row("global model used", gl.get("global_model"),
        py and any(x["cluster"] == "global" for x in py["groups"]))
    if py:
        row("lbfgs convergence warnings / models", None,
            f"{py['convergence_warnings']} / {len(py['lbfgs_iterations'])}")
        row("lbfgs iterations per model", None,
            " ".join(str(i) for i in py["lbfgs_iterations"]))
        row("column kinds (Python's inference)", None,
            ", ".join(f"{k} {n}" for k, n in sorted(py["column_kinds"].items())))
        lines += ["", "Python's groups: " + "; ".join(
            f"cluster {x['cluster']}: {x['rows']} rows, {x['clients']} clients"
            + (f", {x['synthetic']} synthetic" if "synthetic" in x else ", global model")
            for x in py["groups"]) + "."]
    if r["notes"]:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in r["notes"]]
    if r["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in r["warnings"]]
    return "\n".join(lines) + "\n"


def default_out(rows: int, device: str, date: str) -> Path:
    size = "" if rows == FULL_ROWS else f"_{rows}rows"
    return REPO / "bench" / "results" / f"leads_{device}{size}_{date}.md"


def write_report(report: dict, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_markdown(report))
    json_path = out.with_suffix(".json")
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return json_path


# --------------------------------------------------------------------------- main


def median_run(runs: list[dict]) -> dict:
    """The run with the median end-to-end time (the lower middle of an even count), so
    that its stages add up as they ran. Every run must rank alike: the same seed gives
    the same model, and a bench that saw otherwise would be comparing noise."""
    first = runs[0]
    for i, r in enumerate(runs[1:], start=2):
        if r["metrics"] != first["metrics"] or r["log"].get("newton_steps") != first["log"].get(
                "newton_steps"):
            raise BenchError(f"gpurec run {i} gave other metrics or Newton steps than run 1: "
                             "the same seed must give the same model")
    order = sorted(range(len(runs)), key=lambda i: runs[i]["seconds"]["total"])
    g = dict(runs[order[(len(runs) - 1) // 2]])
    g["run_totals"] = [r["seconds"]["total"] for r in runs]
    g["run_chosen"] = order[(len(runs) - 1) // 2] + 1
    return g


def consistency_warnings(g: dict, py: dict | None) -> list[str]:
    if py is None:
        return []
    out = []
    if (py["n_train"], py["n_test"]) != (g["n_train"], g["n_test"]):
        out.append(f"clients differ: gpurec {g['n_train']} train / {g['n_test']} held out, "
                   f"Python {py['n_train']} / {py['n_test']}")
    if g["metrics"]["map@10"] == 0 and py["metrics"]["map@10"] == 0:
        out.append("MAP@10 is 0 on both sides (no held-out client in either top 10): the "
                   "MAP@10 half of the target is met trivially and says nothing about lead "
                   "quality; compare MAP@50, recall@50 and ROC AUC")
    if g["log"].get("features") not in (None, py["features"]):
        out.append(f"the encoders differ: gpurec {g['log']['features']} features, Python "
                   f"{py['features']}")
    return out


def command_args(argv: list[str]) -> list[str]:
    """The command line without its --note texts (the report lists them as notes)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--note":
            skip = True
        elif not a.startswith("--note="):
            out.append(a)
    return out


def bench(args) -> dict:
    binary = Path(args.gpurec).resolve()
    check_binary(binary)
    peers = None if args.skip_python else import_peers()
    work = Path(args.workdir).resolve()
    started = dt.datetime.now()
    report_warnings: list[str] = []

    log(f"generating a {args.rows}-row market (seed {args.seed}) into {work}")
    files = generate_market(binary, args, work)
    log(f"  {files['market_mb']:.0f} MB in {files['gen_seconds']:.1f} s")

    runs = []
    for rep in range(args.repeats):
        log(f"gpurec leads eval ({args.device}, {args.threads} threads), run {rep + 1} of "
            f"{args.repeats}")
        runs.append(run_gpurec_eval(binary, files, args, work))
        g = runs[-1]
        log(f"  total {g['seconds']['total']:.2f} s (process {g['process_seconds']:.2f} s), "
            f"MAP@10 {g['metrics']['map@10']:.4f}, AUC {g['metrics']['auc']:.4f}")
        report_warnings += foreign_load_warning(g["foreign_cpu_share"], f"gpurec run {rep + 1}")
    g = median_run(runs)

    py = None
    if peers:
        log(f"Python pipeline ({args.threads} threads)")
        py = run_python(peers, files, g["holdout"], args)
        log(f"  end to end {py['end_to_end_seconds']:.2f} s, MAP@10 "
            f"{py['metrics']['map@10']:.4f}, AUC {py['metrics']['auc']:.4f}")
        report_warnings += foreign_load_warning(py["foreign_cpu_share"], "the Python run")
    report_warnings += consistency_warnings(g, py)
    g["holdout"] = str(g["holdout"])

    return {
        "date": started.isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *command_args(sys.argv)]),
        "params": {
            "rows": args.rows, "k": args.k, "seed": args.seed,
            "portfolio_index": args.portfolio_index, "threads": args.threads,
            "device": args.device, "uncalibrated": args.uncalibrated,
            "test_fraction": TEST_FRACTION, "C": C,
            "logreg_max_iter": LOGREG_MAX_ITER, "smote_k": SMOTE_K,
            "kmeans_max_iter": KMEANS_MAX_ITER, "kmeans_tol": KMEANS_TOL,
            "max_missing": MAX_MISSING, "max_levels": MAX_LEVELS,
        },
        "targets": {"end_to_end_speedup_min": TARGET_SPEEDUP, "map10": "gpurec >= Python"},
        "data": {k: str(v) if isinstance(v, Path) else v for k, v in files.items()},
        "environment": environment(peers, binary),
        "gpurec": g,
        "python": py,
        "comparison": compare(g, py),
        "notes": list(args.notes),
        "warnings": report_warnings,
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    try:
        report = bench(args)
        date = dt.date.today().isoformat()
        out = Path(args.out).resolve() if args.out else default_out(args.rows, args.device,
                                                                    date)
        json_path = write_report(report, out)
    except BenchError as exc:
        print(f"leads_vs_sklearn: error: {exc}", file=sys.stderr)
        return 1
    print()
    c = report["comparison"]
    if c:
        print(f"TARGET {target_line(c)}")
    for w in report["warnings"]:
        print(f"WARNING {w}")
    if c:
        print(f"OVERALL {verdict(c['target_met'])} (a missed target does not fail the run)")
    print(f"report: {out}\njson:   {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
