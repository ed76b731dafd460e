#!/usr/bin/env python3
"""gpurec logreg against scikit-learn's LogisticRegression on wide numeric CSVs.

Both sides go from the CSV file to the coefficients: pandas.read_csv then
LogisticRegression(C, solver="lbfgs" or "newton-cholesky", max_iter) on one
side, `gpurec logreg --solver lbfgs|newton` on the other, on the same cores.
Each run's objective, 1/2 |w|^2 + C sum log(1 + exp(-y z)), is evaluated here
in double on the same data, so the figures say how close each came to the
optimum as well as how fast. Datasets (seeded): Gaussian features with a
sparse planted model, and the same features with column scales from 10^-2 to
10^3, as raw exports come. Run through bench/run_logreg_bench.sh.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np


def make_data(rng, n, d, scaled):
    X = rng.standard_normal((n, d)).astype(np.float32)
    w = rng.standard_normal(d) * (rng.random(d) < 0.1)
    z = 0.5 * (X.astype(np.float64) @ w) - 1.0
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(np.int8)
    if scaled:
        X *= (10.0 ** rng.integers(-2, 4, size=d)).astype(np.float32)
    return X, y


def write_csv(path, X, y):
    d = X.shape[1]
    with open(path, "w") as f:
        f.write(",".join([f"x{j}" for j in range(d)] + ["y"]) + "\n")
        np.savetxt(f, np.column_stack([X, y]), fmt=["%.7g"] * d + ["%d"], delimiter=",")


def objective(w, b, X, y, C):
    z = X.astype(np.float64) @ w + b
    s = np.where(y > 0, 1.0, -1.0)
    return 0.5 * float(w @ w) + C * float(np.sum(np.logaddexp(0.0, -s * z)))


def run_sklearn(path, C, solver, max_iter):
    import pandas as pd
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    t0 = time.perf_counter()
    df = pd.read_csv(path)
    t1 = time.perf_counter()
    y = df.pop("y").to_numpy()
    X = df.to_numpy(dtype=np.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        m = LogisticRegression(C=C, solver=solver, max_iter=max_iter).fit(X, y)
    t2 = time.perf_counter()
    unconverged = any(issubclass(c.category, ConvergenceWarning) for c in caught)
    return {"read_s": t1 - t0, "fit_s": t2 - t1, "total_s": t2 - t0,
            "w": m.coef_[0], "b": float(m.intercept_[0]), "iterations": int(m.n_iter_[0]),
            "unconverged": unconverged}


def run_gpurec(gpurec, path, C, solver, threads, work):
    coef = os.path.join(work, f"coef_{solver}.csv")
    t0 = time.perf_counter()
    out = subprocess.run([gpurec, "logreg", "--input", path, "--label", "y", "--C", str(C),
                          "--solver", solver, "--coef", coef, "--device", "cpu",
                          "--threads", str(threads), "--quiet"],
                         check=True, capture_output=True, text=True)
    total = time.perf_counter() - t0
    vals = [float(line.split(",")[1]) for line in open(coef).read().splitlines()[1:]]
    first = out.stdout.splitlines()[0]  # rows N, features D, <solver> K, max |gradient| G
    iters = int(first.split(",")[2].split()[-1])
    return {"total_s": total, "w": np.array(vals[:-1]), "b": vals[-1], "iterations": iters}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpurec", required=True)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--features", type=int, default=1500)
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True, help="markdown report; a .json beside it")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gpurec_logreg_bench_") as work:
        for name, scaled in (("gaussian", False), ("scaled columns", True)):
            X, y = make_data(rng, a.rows, a.features, scaled)
            path = os.path.join(work, "data.csv")
            write_csv(path, X, y)
            Xr = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(a.features),
                            dtype=np.float64)  # the values both sides read
            runs = {
                "gpurec lbfgs": run_gpurec(a.gpurec, path, a.C, "lbfgs", a.threads, work),
                "gpurec newton": run_gpurec(a.gpurec, path, a.C, "newton", a.threads, work),
                "sklearn lbfgs": run_sklearn(path, a.C, "lbfgs", 1000),
                "sklearn newton-cholesky": run_sklearn(path, a.C, "newton-cholesky", 100),
            }
            f = {k: objective(r["w"], r["b"], Xr, y, a.C) for k, r in runs.items()}
            best = min(f.values())
            for k, r in runs.items():
                rows.append({"data": name, "run": k, "total_s": r["total_s"],
                             "fit_s": r.get("fit_s"), "iterations": r["iterations"],
                             "unconverged": r.get("unconverged", False),
                             "objective": f[k], "excess": (f[k] - best) / abs(best)})
    base = {r["data"]: r["total_s"] for r in rows if r["run"] == "sklearn lbfgs"}
    lines = [f"# gpurec logreg vs scikit-learn LogisticRegression ({a.rows} rows, "
             f"{a.features} features, C={a.C}, {a.threads} threads)", "",
             "Command: `bash bench/run_logreg_bench.sh --gpurec PATH --out FILE`. Seconds from the "
             "CSV file to the coefficients (scikit-learn: pandas.read_csv + fit; fit alone in "
             "brackets). Objective excess: (f - best f) / |best f| over the four runs, f "
             "evaluated here in double.", "",
             "| data | run | seconds | iterations | objective excess | x vs sklearn lbfgs |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        secs = f"{r['total_s']:.2f}" + (f" ({r['fit_s']:.2f})" if r["fit_s"] is not None else "")
        it = f"{r['iterations']}" + (" (unconverged)" if r["unconverged"] else "")
        lines.append(f"| {r['data']} | {r['run']} | {secs} | {it} | {r['excess']:.1e} | "
                     f"x{base[r['data']] / r['total_s']:.1f} |")
    with open(a.out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    with open(os.path.splitext(a.out)[0] + ".json", "w") as fh:
        json.dump({"params": vars(a), "runs": rows}, fh, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
