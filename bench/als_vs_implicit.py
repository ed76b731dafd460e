#!/usr/bin/env python3
"""gpurec ALS against the `implicit` package's CPU ALS, side by side, in one run.

Both sides train on the same generated data, the same per-user split and the same
hyperparameters (conjugate-gradient solver, 3 CG steps, confidence = alpha * weight).
For each number of factors the bench reports seconds per ALS iteration, the speed ratio
(implicit / gpurec: above 1 means gpurec is faster) and precision@k with both libraries'
metrics, into a Markdown report and a JSON file beside it.

Exit status: 0 when the bench ran (whether or not the targets were met), 1 on an error
(missing binary, failed command, malformed output), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import array
import csv
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCALES = ("tiny", "small", "medium", "lastfm")
DEVICES = ("cpu", "cuda", "auto")
SEED = 7
TEST_FRACTION = 0.2
SOLVERS = ("cg", "cholesky")
CG_STEPS = 3  # implicit's AlternatingLeastSquares.cg_steps default
RANDOM_STATE = 1
K = 10
TARGET_SPEED_RATIO = 1.5  # implicit seconds/iteration over gpurec's
TARGET_PRECISION_LOSS = 0.01  # gpurec precision may be at most 1% (relative) below implicit's
# The generated data's weights are summed event weights (view=1, cart=4, purchase=10), so
# confidences reach the hundreds; regularization 0.01 overfits 64-128 factors badly on the
# smaller scales (tiny: p@10 0.10 at 0.01 vs 0.33 at 30). 30 is at or near the best p@10 on
# tiny, small and medium, and well below where small collapses (200).
DEFAULT_REGULARIZATION = 30.0
GPUREC_JSON_KEYS = (
    "backend",
    "threads",
    "n_users",
    "n_items",
    "nnz",
    "fit_seconds",
    "seconds_per_iteration",
    "iteration_seconds",
    "metrics",
)
GPUREC_METRIC_KEYS = (
    "k",
    "n_users",
    "precision",
    "precision_implicit",
    "recall",
    "map",
    "ndcg",
    "hit_rate",
    "auc",
)


class BenchError(Exception):
    """A real failure of the bench (not a missed target)."""


# --------------------------------------------------------------------------- arguments


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Seconds per ALS iteration and precision@10: gpurec vs implicit (CPU)."
    )
    p.add_argument(
        "--gpurec",
        default=str(REPO / "build" / "gpurec"),
        help="path of the gpurec binary (default: build/gpurec)",
    )
    p.add_argument(
        "--scale",
        choices=SCALES,
        default="small",
        help="size of the generated data set (default: small)",
    )
    p.add_argument(
        "--factors",
        type=int,
        nargs="+",
        default=[64, 128],
        help="latent factor counts to benchmark (default: 64 128)",
    )
    p.add_argument("--iterations", type=int, default=15, help="ALS iterations (default: 15)")
    p.add_argument(
        "--solver",
        choices=SOLVERS,
        default="cg",
        help="cg (implicit's default, use_cg=True) or cholesky (use_cg=False), "
        "the same for both (default: cg)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=available_cores(),
        help="CPU threads for both libraries (default: all cores, %(default)s here)",
    )
    p.add_argument(
        "--device",
        choices=DEVICES,
        default="cpu",
        help="gpurec's device (default: cpu); implicit always runs on the CPU",
    )
    p.add_argument(
        "--regularization",
        type=float,
        default=DEFAULT_REGULARIZATION,
        help="L2 regularization, the same for both (default: %(default)s)",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=1.0,
        help="confidence scale, c = alpha * weight, the same for both (default: 1.0)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="fits per side and factor count, alternating; timings are the median "
        "over repeats, metrics those of the first fit (default: 1)",
    )
    p.add_argument(
        "--workdir",
        default=str(REPO / "bench" / "work"),
        help="where data and raw outputs go (default: bench/work/<scale>)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="Markdown report path; a .json is written beside it "
        "(default: bench/results/als_<scale>_<device>_<date>.md)",
    )
    args = p.parse_args(argv)
    if min(args.iterations, args.threads, args.repeats, *args.factors) < 1:
        p.error("--iterations, --threads, --repeats and --factors must be positive")
    if args.regularization < 0 or args.alpha <= 0:
        p.error("--regularization must be >= 0 and --alpha > 0")
    return args


def import_peers():
    """Imports numpy, scipy, threadpoolctl and implicit, or says how to get them."""
    try:
        import implicit
        import implicit.cpu.als
        import implicit.evaluation
        import numpy
        import scipy.sparse
        import threadpoolctl
    except ImportError as exc:
        raise BenchError(
            f"{exc}. Install the peers with bench/setup_venv.sh and run this "
            "script with bench/.venv/bin/python (or use bench/run_als_bench.sh)"
        ) from exc
    return numpy, scipy, threadpoolctl, implicit


# --------------------------------------------------------------------------- gpurec side


def check_binary(path: Path) -> None:
    if not path.is_file():
        raise BenchError(
            f"gpurec binary not found at {path}; build it with `make build` "
            "in the repository root, or pass --gpurec PATH"
        )
    if not os.access(path, os.X_OK):
        raise BenchError(f"{path} is not executable")


def run_gpurec(binary: Path, argv: list[str], log_path: Path) -> float:
    """Runs one gpurec command, logs its stderr, returns its wall time in seconds."""
    cmd = [str(binary), *argv]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    log_path.write_text(f"$ {shlex.join(cmd)}\n--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise BenchError(
            f"`{shlex.join(cmd)}` exited with status {proc.returncode}:\n{tail}\n"
            f"(full output in {log_path})"
        )
    return wall


def gpurec_version(binary: Path) -> str:
    proc = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
    return (proc.stdout.strip() or proc.stderr.strip() or "unknown").splitlines()[0]


def prepare_data(binary: Path, scale: str, work: Path) -> dict:
    """Generates the interactions and splits them: the files both sides read."""
    work.mkdir(parents=True, exist_ok=True)
    data, train, test = work / "data.csv", work / "train.csv", work / "test.csv"
    gen_s = run_gpurec(
        binary,
        ["gen", "interactions", "--scale", scale, "--seed", str(SEED), "--out", str(data)],
        work / "gen.log",
    )
    split_s = run_gpurec(
        binary,
        [
            "split",
            "--input",
            str(data),
            "--test-fraction",
            str(TEST_FRACTION),
            "--seed",
            str(SEED),
            "--train",
            str(train),
            "--test",
            str(test),
        ],
        work / "split.log",
    )
    return {
        "data": data,
        "train": train,
        "test": test,
        "gen_seconds": gen_s,
        "split_seconds": split_s,
    }


def load_gpurec_json(path: Path) -> dict:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot read gpurec's JSON report {path}: {exc}") from exc
    missing = [k for k in GPUREC_JSON_KEYS if k not in report]
    missing += [f"metrics.{k}" for k in GPUREC_METRIC_KEYS if k not in report.get("metrics", {})]
    if missing:
        raise BenchError(f"{path} lacks the keys {', '.join(missing)}")
    return report


def run_gpurec_eval(binary: Path, files: dict, factors: int, args, work: Path) -> dict:
    json_path = work / f"gpurec_{factors}.json"
    json_path.unlink(missing_ok=True)
    argv = [
        "als",
        "eval",
        "--train",
        str(files["train"]),
        "--test",
        str(files["test"]),
        "--factors",
        str(factors),
        "--iterations",
        str(args.iterations),
        "--solver",
        args.solver,
        "--cg-steps",
        str(CG_STEPS),
        "--regularization",
        repr(args.regularization),
        "--alpha",
        repr(args.alpha),
        "--random-state",
        str(RANDOM_STATE),
        "--device",
        args.device,
        "--threads",
        str(args.threads),
        "--k",
        str(K),
        "--json",
        str(json_path),
    ]
    wall = run_gpurec(binary, argv, work / f"gpurec_{factors}.log")
    report = load_gpurec_json(json_path)
    m = report["metrics"]
    return {
        "backend": report["backend"],
        "threads": report["threads"],
        "shape": {"n_users": report["n_users"], "n_items": report["n_items"], "nnz": report["nnz"]},
        "seconds_per_iteration": float(report["seconds_per_iteration"]),
        "iteration_seconds": [float(s) for s in report["iteration_seconds"]],
        "fit_seconds": float(report["fit_seconds"]),
        # ranking every test user's top k, the metrics and the full AUC (older gpurec: absent)
        "eval_seconds": float(report["eval_seconds"]) if "eval_seconds" in report else None,
        "command_seconds": wall,
        "users_evaluated": m["n_users"],
        # gpurec's "precision_implicit" is implicit's "precision" (hits / min(k, |T|)).
        "metrics": {
            "precision": m["precision_implicit"],
            "precision_hits_over_k": m["precision"],
            "map": m["map"],
            "ndcg": m["ndcg"],
            "auc": m["auc"],
            "recall": m["recall"],
            "hit_rate": m["hit_rate"],
        },
        "command": shlex.join([str(binary), *argv]),
    }


# --------------------------------------------------------------------------- implicit side


def csv_columns(header: list[str], path: Path) -> tuple[int, int, int]:
    names = [h.strip().lower() for h in header]
    try:
        return names.index("user"), names.index("item"), names.index("weight")
    except ValueError:
        raise BenchError(
            f"{path}: expected a header with user,item,weight columns, got {','.join(header)}"
        ) from None


def read_pairs(path: Path, users: dict, items: dict, grow: bool):
    """Reads user,item,weight rows into index arrays.

    With grow, unseen ids get the next index; without, rows with an unseen user or item
    are dropped (and counted).
    """
    rows, cols, vals = array.array("i"), array.array("i"), array.array("f")
    dropped = 0
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise BenchError(f"{path} is empty")
        ui, ii, wi = csv_columns(header, path)
        for line_no, rec in enumerate(reader, start=2):
            try:
                u, i, w = rec[ui], rec[ii], float(rec[wi])
            except (IndexError, ValueError):
                raise BenchError(f"{path}:{line_no}: malformed row {rec!r}") from None
            if grow:
                r = users.setdefault(u, len(users))
                c = items.setdefault(i, len(items))
            else:
                r, c = users.get(u), items.get(i)
                if r is None or c is None:
                    dropped += 1
                    continue
            rows.append(r)
            cols.append(c)
            vals.append(w)
    return rows, cols, vals, dropped


def build_matrices(np, scipy, train_path: Path, test_path: Path) -> dict:
    """Users x items CSR matrices; ids indexed train first, duplicates summed."""
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    tr = read_pairs(train_path, users, items, grow=True)
    te = read_pairs(test_path, users, items, grow=False)
    shape = (len(users), len(items))

    def csr(rows, cols, vals):
        m = scipy.sparse.csr_matrix(
            (
                np.frombuffer(vals, dtype=np.float32),
                (np.frombuffer(rows, dtype=np.int32), np.frombuffer(cols, dtype=np.int32)),
            ),
            shape=shape,
            dtype=np.float32,
        )
        m.sum_duplicates()
        m.eliminate_zeros()
        return m

    train, test = csr(*tr[:3]), csr(*te[:3])
    return {
        "train": train,
        "test": test,
        "n_users": shape[0],
        "n_items": shape[1],
        "train_nnz": int(train.nnz),
        "test_nnz": int(test.nnz),
        "test_rows_dropped": te[3],
        "test_users": int(np.count_nonzero(np.diff(test.indptr))),
    }


def run_implicit(peers, mats: dict, factors: int, args) -> dict:
    np, scipy, threadpoolctl, implicit = peers
    iteration_seconds: list[float] = []

    def on_iteration(iteration, elapsed, loss):  # implicit's fit callback signature
        iteration_seconds.append(float(elapsed))

    # implicit asks for single-threaded BLAS during fit (its OpenMP loop does the threading).
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        model = implicit.cpu.als.AlternatingLeastSquares(
            factors=factors,
            regularization=args.regularization,
            alpha=args.alpha,
            iterations=args.iterations,
            use_cg=args.solver == "cg",
            calculate_training_loss=False,
            random_state=RANDOM_STATE,
            num_threads=args.threads,
        )
        model.cg_steps = CG_STEPS
        start = time.perf_counter()
        model.fit(mats["train"], show_progress=False, callback=on_iteration)
        fit_seconds = time.perf_counter() - start
    if len(iteration_seconds) != args.iterations:
        raise BenchError(
            f"implicit reported {len(iteration_seconds)} iterations, expected {args.iterations}"
        )
    start = time.perf_counter()
    m = implicit.evaluation.ranking_metrics_at_k(
        model, mats["train"], mats["test"], K=K, show_progress=False, num_threads=args.threads
    )
    eval_seconds = time.perf_counter() - start
    return {
        "seconds_per_iteration": statistics.fmean(iteration_seconds),
        "iteration_seconds": iteration_seconds,
        "fit_seconds": fit_seconds,
        "eval_seconds": eval_seconds,
        "metrics": {k: float(m[k]) for k in ("precision", "map", "ndcg", "auc")},
    }


# --------------------------------------------------------------------------- comparison


def combine_repeats(fits: list[dict]) -> dict:
    """The first fit's figures, with timings replaced by their median over the repeats."""
    out = dict(fits[0])
    if len(fits) > 1:
        out["repeat_seconds_per_iteration"] = [f["seconds_per_iteration"] for f in fits]
        out["repeat_fit_seconds"] = [f["fit_seconds"] for f in fits]
        out["seconds_per_iteration"] = statistics.median(out["repeat_seconds_per_iteration"])
        out["fit_seconds"] = statistics.median(out["repeat_fit_seconds"])
    return out


def run_factors(
    binary: Path, files: dict, mats: dict, peers, factors: int, args, work: Path
) -> dict:
    """Fits both sides args.repeats times, alternating so that machine noise hits both."""
    load = ForeignLoad()
    g_fits, i_fits = [], []
    for rep in range(args.repeats):
        tag = f"factors={factors}" + (
            f" repeat {rep + 1}/{args.repeats}" if args.repeats > 1 else ""
        )
        log(f"{tag}: gpurec ({args.device}, {args.threads} threads)")
        g_fits.append(run_gpurec_eval(binary, files, factors, args, work))
        log(f"{tag}: implicit (cpu, {args.threads} threads)")
        i_fits.append(run_implicit(peers, mats, factors, args))
    g, i = combine_repeats(g_fits), combine_repeats(i_fits)
    return {
        "factors": factors,
        "gpurec": g,
        "implicit": i,
        "comparison": compare(g, i),
        "foreign_cpu_share": load.share(),
    }


def compare(g: dict, i: dict) -> dict:
    ratio = (
        i["seconds_per_iteration"] / g["seconds_per_iteration"]
        if g["seconds_per_iteration"] > 0
        else float("inf")
    )
    pi, pg = i["metrics"]["precision"], g["metrics"]["precision"]
    rel = (pg - pi) / pi if pi > 0 else (0.0 if pg == pi else float("inf"))
    speed_ok = ratio >= TARGET_SPEED_RATIO
    precision_ok = rel >= -TARGET_PRECISION_LOSS
    return {
        "speed_ratio": ratio,
        "precision_rel_diff": rel,
        "fit_ratio": i["fit_seconds"] / g["fit_seconds"] if g["fit_seconds"] > 0 else None,
        "speed_ok": speed_ok,
        "precision_ok": precision_ok,
        "target_met": speed_ok and precision_ok,
    }


def shape_warnings(g: dict, mats: dict) -> list[str]:
    """Both sides must have trained on the same matrix and evaluated the same users."""
    ours = {"n_users": mats["n_users"], "n_items": mats["n_items"], "nnz": mats["train_nnz"]}
    out = [
        f"{k}: gpurec {g['shape'][k]} vs implicit side {ours[k]}"
        for k in ours
        if g["shape"][k] != ours[k]
    ]
    if g["users_evaluated"] != mats["test_users"]:
        out.append(
            f"users evaluated: gpurec {g['users_evaluated']} vs "
            f"implicit side {mats['test_users']} users with test items"
        )
    return out


# --------------------------------------------------------------------------- environment


def _proc_stat_busy_seconds() -> float | None:
    """CPU seconds all processes on the machine have been busy since boot."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and its waited-for children (the gpurec commands)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class ForeignLoad:
    """Measures how much CPU other work on the machine took while a stretch of the bench ran."""

    def __init__(self) -> None:
        self.busy0 = _proc_stat_busy_seconds()
        self.own0 = _own_cpu_seconds()
        self.wall0 = time.perf_counter()

    def share(self) -> float | None:
        """Other processes' CPU time as a share of all cores' time over the stretch."""
        busy1 = _proc_stat_busy_seconds()
        wall = time.perf_counter() - self.wall0
        if self.busy0 is None or busy1 is None or wall <= 0:
            return None
        foreign = (busy1 - self.busy0) - (_own_cpu_seconds() - self.own0)
        return max(0.0, foreign) / (wall * (os.cpu_count() or 1))


FOREIGN_LOAD_WARN = 0.10


def foreign_load_warning(share: float | None, what: str) -> list[str]:
    if share is None or share < FOREIGN_LOAD_WARN:
        return []
    return [
        f"other processes took {share:.0%} of the CPUs during {what}: timings (and so the "
        "speed ratios) are suspect; rerun on a quiet machine"
    ]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def blas_info(threadpoolctl) -> list[str]:
    return sorted(
        {
            f"{a.get('internal_api')} {a.get('version')}"
            for a in threadpoolctl.threadpool_info()
            if a.get("user_api") == "blas"
        }
    )


def environment(peers, binary: Path) -> dict:
    np, scipy, threadpoolctl, implicit = peers
    return {
        "cpu": cpu_model(),
        "cores": available_cores(),
        "logical_cpus": os.cpu_count(),
        "memory_gib": memory_gib(),
        "os": platform.platform(),
        "versions": {
            "gpurec": gpurec_version(binary),
            "implicit": implicit.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "threadpoolctl": threadpoolctl.__version__,
            "python": platform.python_version(),
            "blas": blas_info(threadpoolctl),
        },
    }


# --------------------------------------------------------------------------- report


def fmt_s(x: float) -> str:
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def fmt_rel(x: float) -> str:
    return f"{x * 100:+.2f}%"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def target_line(run: dict) -> str:
    c = run["comparison"]
    return (
        f"factors={run['factors']}: speed x{c['speed_ratio']:.2f} "
        f"(target >= {TARGET_SPEED_RATIO}) {verdict(c['speed_ok'])}; precision "
        f"{fmt_rel(c['precision_rel_diff'])} (target >= {-TARGET_PRECISION_LOSS * 100:.0f}%) "
        f"{verdict(c['precision_ok'])} -> {verdict(c['target_met'])}"
    )


def factors_section(run: dict) -> list[str]:
    g, i, c = run["gpurec"], run["implicit"], run["comparison"]
    gm, im = g["metrics"], i["metrics"]
    med = statistics.median
    lines = [
        f"### {run['factors']} factors",
        "",
        f"| | gpurec ({g['backend']}) | implicit (cpu) | implicit / gpurec |",
        "|---|---:|---:|---:|",
        f"| seconds per iteration (mean) | {fmt_s(g['seconds_per_iteration'])} | "
        f"{fmt_s(i['seconds_per_iteration'])} | **x{c['speed_ratio']:.2f}** |",
        f"| median iteration | {fmt_s(med(g['iteration_seconds']))} | "
        f"{fmt_s(med(i['iteration_seconds']))} | "
        f"x{med(i['iteration_seconds']) / max(med(g['iteration_seconds']), 1e-12):.2f} |",
        f"| fit total | {fmt_s(g['fit_seconds'])} | {fmt_s(i['fit_seconds'])} | "
        f"x{c['fit_ratio']:.2f} |"
        if c["fit_ratio"]
        else "| fit total | - | - | - |",
        f"| evaluation (top {K} of every test user) | {fmt_s(g['eval_seconds'])} | "
        f"{fmt_s(i['eval_seconds'])} | x{i['eval_seconds'] / max(g['eval_seconds'], 1e-12):.2f} |"
        if g.get("eval_seconds") is not None
        else f"| evaluation (top {K} of every test user) | - | {fmt_s(i['eval_seconds'])} | - |",
        "",
        f"| @{K} | gpurec | implicit | gpurec vs implicit |",
        "|---|---:|---:|---:|",
        f"| precision (implicit's definition) | {gm['precision']:.4f} | {im['precision']:.4f} | "
        f"**{fmt_rel(c['precision_rel_diff'])}** |",
    ]
    for key in ("map", "ndcg"):
        rel = (gm[key] - im[key]) / im[key] if im[key] else 0.0
        lines.append(f"| {key} | {gm[key]:.4f} | {im[key]:.4f} | {fmt_rel(rel)} |")
    lines.append(
        f"| auc (not the same metric: see above) | {gm['auc']:.4f} | {im['auc']:.4f} | - |"
    )
    lines += [
        "",
        f"gpurec also reports precision as hits/k {gm['precision_hits_over_k']:.4f}, "
        f"recall {gm['recall']:.4f}, hit rate {gm['hit_rate']:.4f}. "
        f"gpurec command wall time {fmt_s(g['command_seconds'])} (reading CSV, fit, evaluation); "
        f"implicit evaluation {fmt_s(i['eval_seconds'])}.",
        "",
        f"Target: {target_line(run)}",
        "",
    ]
    return lines


def render_markdown(report: dict) -> str:
    p, d, e = report["params"], report["data"], report["environment"]
    v = e["versions"]
    lines = [
        f"# ALS: gpurec vs implicit, scale {p['scale']}, gpurec on {p['device']}",
        "",
        f"Date: {report['date']}. Overall: **{verdict(report['target_met'])}** "
        f"(speed ratio >= {TARGET_SPEED_RATIO} with precision@{K} at most "
        f"{TARGET_PRECISION_LOSS * 100:.0f}% below implicit's, for every factor count).",
        "",
        "## Setup",
        "",
        f"- Machine: {e['cpu']}, {e['cores']} cores usable ({e['logical_cpus']} logical CPUs), "
        f"{e['memory_gib']} GiB memory; {e['os']}",
        f"- Versions: {v['gpurec']}; implicit {v['implicit']}, numpy {v['numpy']}, "
        f"scipy {v['scipy']}, threadpoolctl {v['threadpoolctl']}, Python {v['python']}; "
        f"BLAS {', '.join(v['blas']) or 'none found'}",
        f"- Data: `gpurec gen interactions --scale {p['scale']} --seed {SEED}`, "
        f"`gpurec split --test-fraction {TEST_FRACTION} --seed {SEED}`: "
        f"{d['n_users']} users, {d['n_items']} items, {d['train_nnz']} training pairs, "
        f"{d['test_nnz']} test pairs over {d['test_users']} users "
        f"({d['test_rows_dropped']} test rows dropped: user or item not in training)",
        f"- ALS (both): {p['iterations']} iterations, "
        + (
            f"conjugate gradient with {CG_STEPS} steps, "
            if p["solver"] == "cg"
            else "exact solves (Cholesky), "
        )
        + f"regularization {p['regularization']}, alpha {p['alpha']} (confidence = alpha x "
        f"weight, 1 for unobserved), random state {RANDOM_STATE}, {p['threads']} threads; "
        f"implicit with BLAS pinned to 1 thread during fit",
        f"- Seconds per iteration: mean over all {p['iterations']} iterations "
        "(gpurec's JSON timings; implicit's fit callback)",
        f"- Command: `{report['command']}`",
        "",
        "## Summary",
        "",
        f"| factors | gpurec s/iter | implicit s/iter | speed (implicit/gpurec) | "
        f"gpurec p@{K} | implicit p@{K} | precision diff | target |",
        "|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for run in report["runs"]:
        g, i, c = run["gpurec"], run["implicit"], run["comparison"]
        lines.append(
            f"| {run['factors']} | {fmt_s(g['seconds_per_iteration'])} | "
            f"{fmt_s(i['seconds_per_iteration'])} | x{c['speed_ratio']:.2f} | "
            f"{g['metrics']['precision']:.4f} | {i['metrics']['precision']:.4f} | "
            f"{fmt_rel(c['precision_rel_diff'])} | {verdict(c['target_met'])} |"
        )
    lines += [
        "",
        "## Details",
        "",
        "Precision is implicit's: hits / min(k, test items), summed over users before dividing; "
        "gpurec's JSON calls it `precision_implicit`. MAP and NDCG have the same definitions on "
        "both sides. AUC does not: gpurec's is the full per-user ROC AUC over all unseen items, "
        "implicit's `ranking_metrics_at_k` AUC looks at the top k only (a truncated AUC), so the "
        "two are shown but not compared.",
        "",
        "The evaluation row times ranking every test user's unseen items and computing the "
        "metrics: gpurec's `eval_seconds` (which also includes its full AUC over up to 4e8 "
        "user x item scores, more work than implicit's) against implicit's "
        "`ranking_metrics_at_k`, both on the same threads, from the first fit.",
        "",
    ]
    if p["repeats"] > 1:
        lines += [
            f"Timings are medians over {p['repeats']} alternating fits per side; "
            "the median-iteration row and the metrics are those of the first fit.",
            "",
        ]
    for run in report["runs"]:
        lines += factors_section(run)
    if report["warnings"]:
        lines += ["## Warnings", ""] + [f"- {w}" for w in report["warnings"]] + [""]
    return "\n".join(lines)


def default_out(scale: str, device: str, date: str) -> Path:
    return REPO / "bench" / "results" / f"als_{scale}_{device}_{date}.md"


def write_report(report: dict, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_markdown(report))
    json_path = out.with_suffix(".json")
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return json_path


# --------------------------------------------------------------------------- main


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


def bench(args) -> dict:
    binary = Path(args.gpurec).resolve()
    check_binary(binary)
    peers = import_peers()
    np, scipy = peers[0], peers[1]
    work = Path(args.workdir).resolve() / args.scale
    started = dt.datetime.now()
    warnings: list[str] = []

    log(f"generating scale {args.scale} and splitting into {work}")
    files = prepare_data(binary, args.scale, work)
    log("building the implicit side's CSR matrices")
    mats = build_matrices(np, scipy, files["train"], files["test"])
    log(
        f"{mats['n_users']} users, {mats['n_items']} items, {mats['train_nnz']} training "
        f"pairs, {mats['test_nnz']} test pairs"
    )

    runs = []
    for factors in args.factors:
        run = run_factors(binary, files, mats, peers, factors, args, work)
        g, i = run["gpurec"], run["implicit"]
        warnings += [f"factors={factors}: {w}" for w in shape_warnings(g, mats)]
        warnings += foreign_load_warning(run["foreign_cpu_share"], f"the {factors}-factor runs")
        runs.append(run)
        log(
            f"  gpurec {fmt_s(g['seconds_per_iteration'])}/iter p@{K} "
            f"{g['metrics']['precision']:.4f} | implicit {fmt_s(i['seconds_per_iteration'])}"
            f"/iter p@{K} {i['metrics']['precision']:.4f}"
        )

    return {
        "date": started.isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "params": {
            "scale": args.scale,
            "device": args.device,
            "factors": args.factors,
            "iterations": args.iterations,
            "threads": args.threads,
            "repeats": args.repeats,
            "regularization": args.regularization,
            "alpha": args.alpha,
            "solver": args.solver,
            "cg_steps": CG_STEPS,
            "random_state": RANDOM_STATE,
            "k": K,
            "seed": SEED,
            "test_fraction": TEST_FRACTION,
        },
        "targets": {
            "speed_ratio_min": TARGET_SPEED_RATIO,
            "precision_rel_loss_max": TARGET_PRECISION_LOSS,
        },
        "data": {k: v for k, v in mats.items() if k not in ("train", "test")}
        | {"gen_seconds": files["gen_seconds"], "split_seconds": files["split_seconds"]},
        "environment": environment(peers, binary),
        "runs": runs,
        "warnings": warnings,
        "target_met": all(r["comparison"]["target_met"] for r in runs),
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        report = bench(args)
        date = report["date"][:10]
        out = Path(args.out).resolve() if args.out else default_out(args.scale, args.device, date)
        json_path = write_report(report, out)
    except BenchError as exc:
        print(f"als_vs_implicit: error: {exc}", file=sys.stderr)
        return 1
    print()
    for run in report["runs"]:
        print(f"TARGET {target_line(run)}")
    for w in report["warnings"]:
        print(f"WARNING {w}")
    print(f"OVERALL {verdict(report['target_met'])} (a missed target does not fail the run)")
    print(f"report: {out}\njson:   {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
