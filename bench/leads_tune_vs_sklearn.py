#!/usr/bin/env python3
"""`gpurec leads tune` against the same grid searched in Python, side by side, in one run.

The Python side is written as a careful user would write it: the market is read and encoded
once and KMeans runs once per k (as gpurec does), then every (balance, C) setting fits one
scikit-learn LogisticRegression per cluster (SMOTE from imbalanced-learn, or
class_weight="balanced", or neither), with a global model for clusters with too few
clients, scores the market with gpurec's prior correction and measures the held-out
clients. Both sides hold out the same clients (the ids `gpurec leads eval --holdout-out`
writes, which are tune's one-fold holdout) on the same cores. The report gives both wall
times (CSV read to every setting measured), their ratio, and each setting's MAP@10 and
AUC on both sides, into a Markdown report and a JSON file beside it.

Exit status: 0 when the bench ran, 1 on an error, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shlex
import time
import warnings
from pathlib import Path

from als_vs_implicit import (BenchError, available_cores, check_binary, cpu_model, gpurec_version,
                             log, memory_gib, run_gpurec)
from leads_vs_sklearn import (FULL_ROWS, KMEANS_MAX_ITER, KMEANS_TOL, LOGREG_MAX_ITER, NA_VALUES,
                              REPO, SMOTE_K, encode, generate_market, import_peers, limit_threads,
                              ranking_metrics, read_ids, run_gpurec_eval)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gpurec", default=str(REPO / "build" / "gpurec"), help="gpurec binary")
    p.add_argument("--rows", type=int, default=FULL_ROWS, help="market rows (default: 462298)")
    p.add_argument("--k", default="8", help="KMeans clusters, a list (default: 8)")
    p.add_argument("--balance", default="smote,none", help="a list of smote, weight, none")
    p.add_argument("--C", dest="C", default="0.1,1", help="a list of C values")
    p.add_argument("--seed", type=int, default=42, help="market, KMeans, SMOTE and holdout seed")
    p.add_argument("--portfolio-index", type=int, default=1, help="portfolio 1, 2 or 3")
    p.add_argument("--threads", type=int, default=2, help="cores for both sides")
    p.add_argument("--workdir", default="/tmp/gpurec_leads_bench", help="data and logs")
    p.add_argument("--out", default=None, help="Markdown report (JSON beside it)")
    args = p.parse_args(argv)
    args.k_list = [int(x) for x in args.k.split(",")]
    args.balance_list = args.balance.split(",")
    args.C_list = [float(x) for x in args.C.split(",")]
    if any(b not in ("smote", "weight", "none") for b in args.balance_list):
        p.error("--balance takes smote, weight and none")
    args.device, args.uncalibrated = "cpu", False
    return args


def run_gpurec_tune(binary: Path, files: dict, args, work: Path) -> dict:
    json_path = work / "gpurec_tune.json"
    json_path.unlink(missing_ok=True)
    argv = ["leads", "tune", "--market", str(files["market"]), "--portfolio",
            str(files["portfolio"]), "--k", args.k, "--balance", args.balance, "--C", args.C,
            "--seed", str(args.seed), "--eval-seed", str(args.seed), "--smote-k", str(SMOTE_K),
            "--json", str(json_path), "--threads", str(args.threads), "--device", "cpu"]
    wall = run_gpurec(binary, argv, work / "gpurec_tune.log")
    report = json.loads(json_path.read_text())
    settings = {(s["k"], s["balance"], round(float(s["C"]), 9)): s for s in report["settings"]}
    return {"wall": wall, "settings": settings, "command": shlex.join([str(binary), *argv])}


def run_python_tune(peers, files: dict, holdout: Path, args) -> dict:
    np, pd, _, _, threadpoolctl = peers
    from imblearn.over_sampling import SMOTE
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    out: dict = {}
    with threadpoolctl.threadpool_limits(limits=args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings: counted in the single bench
        t_start = time.perf_counter()
        df = pd.read_csv(files["market"], keep_default_na=False, na_values=NA_VALUES,
                         low_memory=False)
        ids = df["id"].astype(str)
        client = ids.isin(read_ids(pd, files["portfolio"])).to_numpy()
        test = ids.isin(read_ids(pd, holdout)).to_numpy()
        train = client & ~test
        X, _ = encode(np, pd, df)
        del df
        out["read_encode"] = time.perf_counter() - t_start
        log(f"  python: read and encoded ({out['read_encode']:.1f} s)")
        keep = ~train
        candidates = np.flatnonzero(keep)
        for k in args.k_list:
            t0 = time.perf_counter()
            labels = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=KMEANS_MAX_ITER,
                            tol=KMEANS_TOL, random_state=args.seed).fit(X).labels_
            log(f"  python: KMeans k {k} ({time.perf_counter() - t0:.1f} s)")
            for balance in args.balance_list:
                for C in args.C_list:
                    t0 = time.perf_counter()
                    min_pos = 2 if balance == "smote" else 1

                    def fit(rows):
                        Xg, yg = X[rows], train[rows].astype(np.int8)
                        pos, others = int(yg.sum()), len(yg) - int(yg.sum())
                        kw = {"class_weight": "balanced"} if balance == "weight" else {}
                        if balance == "smote" and others > pos:
                            Xg, yg = SMOTE(k_neighbors=min(SMOTE_K, pos - 1),
                                           random_state=args.seed).fit_resample(Xg, yg)
                        model = LogisticRegression(C=C, max_iter=LOGREG_MAX_ITER, **kw)
                        model.fit(Xg, yg)
                        shift = np.log(pos / others) if balance != "none" and others > pos else 0
                        return model, float(shift)

                    models, logit, global_model = {}, np.empty(len(X)), None
                    for c in range(k):
                        rows = np.flatnonzero(labels == c)
                        pos = int(train[rows].sum())
                        if pos >= min_pos and len(rows) - pos >= 1:
                            models[c] = fit(rows)
                        else:
                            if global_model is None:
                                global_model = fit(np.arange(len(X)))
                            models[c] = global_model
                    for c in range(k):
                        rows = np.flatnonzero(labels == c)
                        if rows.size:
                            model, shift = models[c]
                            logit[rows] = model.decision_function(X[rows]) + shift
                    order = np.lexsort((candidates, -logit[candidates]))
                    m = ranking_metrics(np, candidates[order], test)
                    m["auc"] = float(roc_auc_score(test[keep], logit[keep]))
                    m["seconds"] = time.perf_counter() - t0
                    out[(k, balance, round(C, 9))] = m
                    log(f"  python: k {k}, {balance}, C {C}: map@10 {m['map@10']:.4f} "
                        f"({m['seconds']:.1f} s)")
        out["wall"] = time.perf_counter() - t_start
    return out


def render(r: dict) -> str:
    lines = [f"# leads tune: gpurec vs the same grid in Python, {r['rows']} rows, on cpu", "",
             f"Date: {r['date']}.", "", "## Setup", "",
             f"- Machine: {r['machine']}", f"- Versions: {r['versions']}",
             f"- Grid: k {r['grid']['k']} x balance {r['grid']['balance']} x C {r['grid']['C']} "
             f"({len(r['rows_table'])} settings); one holdout of {r['n_test']} clients "
             "(`leads eval --holdout-out`, tune's `--folds 1`), SMOTE k 5, seed "
             f"{r['seed']}, {r['threads']} threads on both sides",
             "- Python: read and encode once, KMeans once per k, then per setting one "
             "LogisticRegression (lbfgs, max_iter 100) per cluster, the global model for "
             "clusters with too few clients, scores with gpurec's prior correction",
             f"- gpurec: `{r['gpurec_command']}`",
             f"- Bench: `{r['bench_command']}`", "", "## Wall time (CSV read to every setting "
             "measured)", "", "| | gpurec | Python | Python / gpurec |", "|---|---:|---:|---:|",
             f"| **all settings** | **{r['gpurec_wall']:.1f} s** | **{r['python_wall']:.1f} s** "
             f"| **x{r['python_wall'] / r['gpurec_wall']:.1f}** |", "",
             "## Each setting on the same holdout", "",
             "| k | balance | C | MAP@10 gpurec | MAP@10 Python | AUC gpurec | AUC Python | "
             "Python s |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row in r["rows_table"]:
        lines.append(f"| {row['k']} | {row['balance']} | {row['C']:g} | {row['g_map']:.4f} | "
                     f"{row['p_map']:.4f} | {row['g_auc']:.4f} | {row['p_auc']:.4f} | "
                     f"{row['p_seconds']:.1f} |")
    lines += ["", "Solvers differ (gpurec: Newton to a gradient of 1e-6; scikit-learn: lbfgs, "
              "at most 100 iterations), and so do the KMeans++ and SMOTE random streams, so "
              "the clusters and synthetic rows are not identical: the settings' figures agree "
              "in order, not to the digit.", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    binary = Path(args.gpurec).resolve()
    check_binary(binary)
    peers = import_peers()
    work = Path(args.workdir)
    files = generate_market(binary, args, work)
    eval_args = argparse.Namespace(**{**vars(args), "k": args.k_list[0]})
    holdout = run_gpurec_eval(binary, files, eval_args, work)["holdout"]
    log("gpurec leads tune ...")
    g = run_gpurec_tune(binary, files, args, work)
    log(f"  gpurec: {g['wall']:.1f} s")
    log("Python grid ...")
    py = run_python_tune(peers, files, holdout, args)
    rows = []
    for key, gs in g["settings"].items():
        ps = py[key]
        rows.append({"k": key[0], "balance": key[1], "C": key[2], "g_map": gs["map"]["10"],
                     "p_map": ps["map@10"], "g_auc": gs["auc"], "p_auc": ps["auc"],
                     "p_seconds": ps["seconds"]})
    np, pd, sklearn, imblearn, _ = peers
    date = dt.datetime.now().isoformat(timespec="seconds")
    report = {
        "date": date, "rows": args.rows, "seed": args.seed, "threads": args.threads,
        "machine": f"{cpu_model()}, {available_cores()} cores usable, {memory_gib():.1f} GiB; "
                   f"{platform.platform()}",
        "versions": f"gpurec {gpurec_version(binary)}; scikit-learn {sklearn.__version__}, "
                    f"imbalanced-learn {imblearn.__version__}, pandas {pd.__version__}, "
                    f"numpy {np.__version__}",
        "grid": {"k": args.k, "balance": args.balance, "C": args.C},
        "n_test": int(sum(1 for _ in open(holdout)) - 1),
        "gpurec_command": g["command"],
        "bench_command": shlex.join(["bench/.venv/bin/python", "bench/leads_tune_vs_sklearn.py",
                                     *argv]),
        "gpurec_wall": g["wall"], "python_wall": py["wall"], "rows_table": rows,
    }
    out = Path(args.out) if args.out else REPO / "bench" / "results" / (
        f"leads_tune_vs_python_{date[:10]}.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report))
    out.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str))
    log(f"report: {out}")
    return 0


if __name__ == "__main__":
    import sys

    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
