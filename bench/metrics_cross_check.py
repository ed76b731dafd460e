#!/usr/bin/env python3
"""gpurec's evaluation against implicit's, on the same model (and the item kNN baseline).

The ALS bench compares two fits, so its metric differences mix training and evaluation.
Here one gpurec model is evaluated twice: by `gpurec als eval --model`, and by
implicit's `ranking_metrics_at_k` on the same factors, exported with `gpurec als export`
and loaded into an implicit model object. Precision (implicit's definition), MAP and NDCG
must agree up to near-ties (scores that differ in the last float bits can swap places when
the two sides sum the dot products in another order). The item kNN baseline of
`als eval --baseline` is measured against implicit's CosineRecommender with the same K.

Exit status: 0 when the figures agree within --tolerance, 1 when they do not or on an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import als_vs_implicit as avi  # noqa: E402  (the data preparation and readers are shared)
import implicit.nearest_neighbours  # noqa: E402,F401  (imported for its attribute)

COMPARED = (("precision", "precision_implicit"), ("map", "map"), ("ndcg", "ndcg"))


def run(binary: Path, argv: list[str], log: Path) -> float:
    return avi.run_gpurec(binary, argv, log)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gpurec", default=str(avi.REPO / "build" / "gpurec"))
    p.add_argument("--scale", choices=avi.SCALES, default="small")
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--iterations", type=int, default=15)
    p.add_argument("--regularization", type=float, default=avi.DEFAULT_REGULARIZATION)
    p.add_argument("--threads", type=int, default=avi.available_cores())
    p.add_argument("--tolerance", type=float, default=1e-4, help="largest absolute difference")
    p.add_argument("--knn", type=int, default=20, help="neighbours of the item kNN baseline")
    p.add_argument("--workdir", default=str(avi.REPO / "bench" / "work"))
    p.add_argument("--out", default=None, help="Markdown report (a .json beside it)")
    args = p.parse_args(argv)

    binary = Path(args.gpurec).resolve()
    avi.check_binary(binary)
    np, scipy, threadpoolctl, implicit = avi.import_peers()
    work = Path(args.workdir).resolve() / args.scale
    started = dt.datetime.now()
    try:
        files = avi.prepare_data(binary, args.scale, work)
        model, export = work / "cross.gpurec", work / "cross_export"
        fit_argv = ["als", "fit", "--input", str(files["train"]), "--model", str(model),
                    "--factors", str(args.factors), "--iterations", str(args.iterations),
                    "--regularization", repr(args.regularization), "--random-state",
                    str(avi.RANDOM_STATE), "--threads", str(args.threads), "--device", "cpu"]
        run(binary, fit_argv, work / "cross_fit.log")
        report_path = work / "cross_eval.json"
        eval_argv = ["als", "eval", "--model", str(model), "--train", str(files["train"]),
                     "--test", str(files["test"]), "--k", str(avi.K), "--json", str(report_path),
                     "--baseline", "--knn-neighbours", str(args.knn),
                     "--threads", str(args.threads), "--device", "cpu"]
        run(binary, eval_argv, work / "cross_eval.log")
        report = json.loads(report_path.read_text())
        g, g_knn = report["metrics"], report["baseline_item_knn"]
        run(binary, ["als", "export", "--model", str(model), "--out", str(export)],
            work / "cross_export.log")
    except avi.BenchError as exc:
        print(f"metrics_cross_check: error: {exc}", file=sys.stderr)
        return 1

    # the bench's own matrices (ids numbered in train order), the factors put in that order
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    shape_rows = avi.read_pairs(files["train"], users, items, grow=True)
    test_rows = avi.read_pairs(files["test"], users, items, grow=False)
    shape = (len(users), len(items))

    def csr(rows, cols, vals):
        m = scipy.sparse.csr_matrix(
            (np.frombuffer(vals, dtype=np.float32),
             (np.frombuffer(rows, dtype=np.int32), np.frombuffer(cols, dtype=np.int32))),
            shape=shape, dtype=np.float32)
        m.sum_duplicates()
        m.eliminate_zeros()
        return m

    train, test = csr(*shape_rows[:3]), csr(*test_rows[:3])
    U = np.load(export / "user_factors.npy")
    V = np.load(export / "item_factors.npy")
    u_ids = [line.split(",", 1)[1] for line in (export / "users.csv").read_text().splitlines()[1:]]
    i_ids = [line.split(",", 1)[1] for line in (export / "items.csv").read_text().splitlines()[1:]]
    U_b = np.zeros((shape[0], U.shape[1]), dtype=np.float32)
    V_b = np.zeros((shape[1], V.shape[1]), dtype=np.float32)
    U_b[[users[u] for u in u_ids]] = U
    V_b[[items[i] for i in i_ids]] = V
    m = implicit.cpu.als.AlternatingLeastSquares(factors=args.factors)
    m.user_factors, m.item_factors = U_b, V_b
    t0 = time.perf_counter()
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        im = implicit.evaluation.ranking_metrics_at_k(
            m, train, test, K=avi.K, show_progress=False, num_threads=args.threads)
    i_seconds = time.perf_counter() - t0

    # the item kNN baseline against implicit's CosineRecommender on the same split
    t0 = time.perf_counter()
    knn = implicit.nearest_neighbours.CosineRecommender(K=args.knn, num_threads=args.threads)
    knn.fit(train, show_progress=False)
    ik = implicit.evaluation.ranking_metrics_at_k(
        knn, train, test, K=avi.K, show_progress=False, num_threads=args.threads)
    k_seconds = time.perf_counter() - t0

    rows, ok = [], True
    for label, gm, imm in (("ALS", g, im), (f"item kNN ({args.knn})", g_knn, ik)):
        for i_key, g_key in COMPARED:
            diff = float(gm[g_key]) - float(imm[i_key])
            ok &= abs(diff) <= args.tolerance
            rows.append((f"{label} {i_key}", float(gm[g_key]), float(imm[i_key]), diff))
    out = Path(args.out) if args.out else (
        avi.REPO / "bench" / "results" / f"metrics_cross_check_{args.scale}_{started:%Y-%m-%d}.md")
    lines = [
        f"# gpurec's evaluation against implicit's on the same model, scale {args.scale}",
        "",
        f"Date: {started.isoformat(timespec='seconds')}. "
        f"Result: **{'AGREE' if ok else 'DIFFER'}** (tolerance {args.tolerance:g} absolute).",
        "",
        f"- Model: `{shlex.join([str(binary), *fit_argv])}`",
        f"- gpurec: `{shlex.join([str(binary), *eval_argv])}`",
        f"- implicit {implicit.__version__}: `ranking_metrics_at_k(model, train, test, K={avi.K})`"
        " on the factors `gpurec als export` wrote, loaded into an "
        "`implicit.cpu.als.AlternatingLeastSquares` object",
        f"- item kNN: gpurec's `als eval --baseline --knn-neighbours {args.knn}` against "
        f"implicit's `CosineRecommender(K={args.knn})` fitted on the same training matrix "
        f"(implicit: {k_seconds:.2f} s to fit and evaluate)",
        f"- {shape[0]} users, {shape[1]} items; gpurec evaluated {g['n_users']} test users;"
        f" implicit took {i_seconds:.2f} s for the ALS factors",
        f"- Command: `{shlex.join([sys.executable, *sys.argv])}`",
        "",
        f"| @{avi.K} | gpurec | implicit | gpurec - implicit |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {k} | {a:.6f} | {b:.6f} | {d:+.2e} |" for k, a, b, d in rows]
    lines += ["", "gpurec's `precision_implicit` is implicit's precision: hits / min(k, test items)."]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        {"date": started.isoformat(timespec="seconds"), "agree": ok, "tolerance": args.tolerance,
         "rows": [{"figure": r[0], "gpurec": r[1], "implicit": r[2]} for r in rows]},
        indent=2) + "\n")
    print("\n".join(lines))
    print(f"report: {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
