#!/usr/bin/env python3
"""`gpurec als recommend --explain` against implicit's `explain`, on the same factors.

gpurec fits a model; this script reads gpurec's model file (format in
src/host/model_io.c), gives its factors to an implicit AlternatingLeastSquares
object, and asks both for every contribution behind each recommended item of
a sample of users. Both follow section 5 of Hu, Koren and Volinsky (2008), so
on the same factors and confidences the figures must agree to float rounding:
this is a correctness check against the peer, not a speed race (the time of
each side is shown for information).

Usage: bench/.venv/bin/python bench/explain_vs_implicit.py --gpurec build/gpurec
           [--scale tiny|small] [--users 200] [--out bench/results/FILE.md]
"""
import argparse
import datetime
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp


def read_model(path):
    """The ALS model file: params, ids and factors (versions 2 and 3)."""
    data = open(path, "rb").read()
    if data[:8] != b"GPURECMD":
        raise SystemExit(f"{path}: not a gpurec model")
    version, endian, kind = struct.unpack_from("<III", data, 8)
    if endian != 0x01020304 or kind != 1 or version not in (2, 3):
        raise SystemExit(f"{path}: version {version}, kind {kind}: not an ALS model this reads")
    pos = 20
    factors, iterations, solver, cg_steps = struct.unpack_from("<iiii", data, pos)
    pos += 16
    n_floats = 4 if version >= 3 else 3
    floats = struct.unpack_from("<" + "f" * n_floats, data, pos)
    pos += 4 * n_floats + 8  # and random_state
    n_users, n_items, _done = struct.unpack_from("<iii", data, pos)
    pos += 12

    def ids(count):
        nonlocal pos
        (nbytes,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        out = data[pos:pos + nbytes].split(b"\0")[:count]
        pos += nbytes
        return [s.decode() for s in out]

    users, items = ids(n_users), ids(n_items)
    x = np.frombuffer(data, np.float32, n_users * factors, pos).reshape(n_users, factors)
    pos += 4 * n_users * factors
    y = np.frombuffer(data, np.float32, n_items * factors, pos).reshape(n_items, factors)
    params = {"factors": factors, "regularization": floats[0], "alpha": floats[1],
              "confidence_offset": floats[2], "log_epsilon": floats[3] if n_floats == 4 else 0.0}
    return params, users, items, x, y


def history(path, users, items, weights):
    """(n_users, n_items) CSR of summed event weights in the model's indices."""
    import csv
    uix = {u: i for i, u in enumerate(users)}
    iix = {t: i for i, t in enumerate(items)}
    rows, cols, vals = [], [], []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            w = float(r["weight"]) if "weight" in r else weights[r["event"]]
            if r["user"] in uix and r["item"] in iix and w > 0:
                rows.append(uix[r["user"]])
                cols.append(iix[r["item"]])
                vals.append(w)
    m = sp.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(len(users), len(items)))
    m.sum_duplicates()
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gpurec", default="build/gpurec")
    ap.add_argument("--scale", default="small", choices=["tiny", "small"])
    ap.add_argument("--users", type=int, default=200, help="users explained")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--regularization", type=float, default=30.0)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    from implicit.cpu.als import AlternatingLeastSquares
    import implicit

    work = os.path.join("bench", "work", "explain_" + a.scale)
    os.makedirs(work, exist_ok=True)
    data, model, rec = (os.path.join(work, n) for n in ("data.csv", "model.gpurec", "rec.jsonl"))
    g = [a.gpurec]
    subprocess.run(g + ["gen", "interactions", "--scale", a.scale, "--seed", "3", "--out", data],
                   check=True, capture_output=True)
    subprocess.run(g + ["als", "fit", "--input", data, "--model", model, "--factors",
                        str(a.factors), "--iterations", "15", "--regularization",
                        str(a.regularization), "--alpha", str(a.alpha), "--quiet"], check=True)
    params, users, items, x, y = read_model(model)
    sample = users[:a.users]
    t0 = time.perf_counter()
    subprocess.run(g + ["als", "recommend", "--model", model, "--input", data, "--users",
                        ",".join(sample), "--k", str(a.k), "--explain", "1024", "--format", "jsonl",
                        "--out", rec, "--quiet"], check=True)
    gpurec_seconds = time.perf_counter() - t0
    weights = {"view": 1.0, "cart": 4.0, "purchase": 10.0}
    hist = history(data, users, items, weights)

    als = AlternatingLeastSquares(factors=params["factors"], regularization=params["regularization"],
                                  alpha=params["alpha"], random_state=1)
    als.user_factors = np.ascontiguousarray(x)
    als.item_factors = np.ascontiguousarray(y)
    uix = {u: i for i, u in enumerate(users)}
    iix = {t: i for i, t in enumerate(items)}
    worst_total = worst_share = 0.0
    pairs = shares = order_mismatch = 0
    implicit_seconds = 0.0
    for line in open(rec):
        r = json.loads(line)
        u = uix[r["user"]]
        row = hist[u]
        weights_cache = None
        for it in r["items"]:
            t0 = time.perf_counter()
            total, top, weights_cache = als.explain(u, hist, iix[it["item"]],
                                                    user_weights=weights_cache, N=1024)
            implicit_seconds += time.perf_counter() - t0
            mine = {b["item"]: b["contribution"] for b in it["because"]}
            theirs = {items[j]: s for j, s in top}
            scale = max(abs(v) for v in theirs.values())
            worst_total = max(worst_total, abs(it["explained_score"] - total) / max(abs(total), 1e-12))
            if set(mine) != set(theirs) or len(mine) != row.nnz:
                raise SystemExit(f"user {r['user']} item {it['item']}: different contributing items")
            for j, s in theirs.items():
                worst_share = max(worst_share, abs(mine[j] - s) / scale)
                shares += 1
            # the largest contribution names the same item (ties aside)
            best_theirs = max(theirs.values())
            if abs(theirs[it["because"][0]["item"]] - best_theirs) > 1e-6 * scale:
                order_mismatch += 1
            pairs += 1
    ok = worst_total < 1e-4 and worst_share < 1e-4 and order_mismatch == 0
    lines = [
        f"# Explanations: gpurec `als recommend --explain` vs implicit `explain`, same factors",
        "",
        f"Date: {datetime.datetime.now().isoformat(timespec='seconds')}. "
        f"Overall: **{'PASS' if ok else 'FAIL'}** (every contribution within 1e-4 of the largest, "
        "explained scores within 1e-4, the same top item).",
        "",
        f"- Data: `gpurec gen interactions --scale {a.scale} --seed 3`; "
        f"model: `gpurec als fit --factors {a.factors} --iterations 15 --regularization "
        f"{a.regularization} --alpha {a.alpha}`; implicit {implicit.__version__} given gpurec's factors.",
        f"- Compared: {pairs} (user, recommended item) pairs of {len(sample)} users, "
        f"{shares} contributions.",
        f"- Largest difference of an explained score, relative: {worst_total:.2e}.",
        f"- Largest difference of a contribution, relative to the pair's largest: {worst_share:.2e}.",
        f"- Pairs whose top contributing item differs: {order_mismatch}.",
        f"- Time: gpurec {gpurec_seconds:.2f} s for the whole command (read, rank, explain, write); "
        f"implicit {implicit_seconds:.2f} s in `explain` alone (one Cholesky per user, reused).",
        "",
        f"Command: `bench/.venv/bin/python bench/explain_vs_implicit.py --gpurec {a.gpurec} "
        f"--scale {a.scale} --users {a.users} --factors {a.factors} --regularization "
        f"{a.regularization} --alpha {a.alpha}`",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
