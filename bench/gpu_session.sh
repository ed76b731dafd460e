#!/usr/bin/env bash
# What a session with a lent GPU runs there, in the repository root:
#   bash bench/gpu_session.sh [stage ...]      stages: build test sanitize leads als logreg; all = every one
# Needs the kit from scripts/device_kit.sh carried along (.devkit): that machine has no OpenBLAS,
# LAPACKE or network. Builds with the CUDA backend into build-gpu, then
#   test      the GPU parity tests (ctest -L gpu), again with GPUREC_CUDA_SYNC=1, then the whole suite
#   sanitize  every GPU test under compute-sanitizer memcheck, racecheck and synccheck
#   leads     the leads bench on the GPU (bench/leads_vs_sklearn.py --device cuda), with the Python
#             pipeline on 2 cores beside it when the carried imbalanced-learn installs; then the
#             same evaluation under several --max-device-mem budgets, which must not move a metric
#   als       bench/gpu_als_lastfm.sh with its memcheck run
#   logreg    gpurec logreg on a seeded 20000 x 1500 Gaussian CSV, L-BFGS and Newton, on the GPU and
#             on all CPU cores (the coefficients must agree within 1e-4), then the leads evaluation
#             with --solver lbfgs on the GPU (hundreds of passes: what each pass costs beyond its work)
# Logs and reports go to $OUT (the device tool brings them back), else bench/work/gpu_session.
# One call runs within the tool's 10 minutes with `build test sanitize`; run `build leads als` in
# a second call, and `build logreg` (after leads: it reuses its market) in a third (a fresh machine
# builds again: about a minute on 16 cores).
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out="${OUT:-$repo/bench/work/gpu_session}"
mkdir -p "$out"
stages=("$@")
[[ ${#stages[@]} -eq 0 || "${stages[0]}" == all ]] && stages=(build test sanitize leads als logreg)
kit=/tmp/gpurec-devkit
# on this machine a GPU test that finds no usable GPU fails instead of skipping
# (a driver older than the toolkit must not pass as "skipped")
export GPUREC_REQUIRE_GPU=1
build=build-gpu
status=0
log() { echo "gpu_session: $*" | tee -a "$out/session.log"; }
fail() { log "FAILED: $*"; status=1; }

unpack_kit() {
  [[ -d "$kit/lib" ]] && return 0
  [[ -f .devkit/blas.tar.xz ]] || { log "no .devkit/blas.tar.xz: run scripts/device_kit.sh here and carry .devkit"; exit 1; }
  mkdir -p "$kit" && tar -C "$kit" -xJf .devkit/blas.tar.xz || exit 1
  ln -sf libopenblas.so.0 "$kit/lib/libopenblas.so"
  ln -sf liblapacke.so.3 "$kit/lib/liblapacke.so"
  ln -sf libz.so.1 "$kit/lib/libz.so"
}

stage_build() {
  unpack_kit
  { nvidia-smi; nvcc --version; gcc --version | head -1; cmake --version | head -1; } >"$out/machine.txt" 2>&1
  local t0=$SECONDS
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGPUREC_CUDA=ON \
    -DGPUREC_CBLAS_INCLUDE="$kit/include" -DGPUREC_OPENBLAS_LIB="$kit/lib/libopenblas.so" \
    -DGPUREC_LAPACKE_INCLUDE="$kit/include" -DGPUREC_LAPACKE_LIB="$kit/lib/liblapacke.so" \
    -DZLIB_INCLUDE_DIR="$kit/include" -DZLIB_LIBRARY="$kit/lib/libz.so" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$kit/lib -Wl,-rpath,$kit/lib" >"$out/build.log" 2>&1 &&
    cmake --build "$build" -j "$(nproc)" >>"$out/build.log" 2>&1 ||
    { tail -30 "$out/build.log"; log "build failed"; exit 1; }
  log "built in $((SECONDS - t0)) s"
  "$build/gpurec" --version 2>&1 | tee -a "$out/machine.txt" | grep -E "^(cuda|gpu):" | tee -a "$out/session.log"
}

stage_test() {
  ctest --test-dir "$build" -L gpu --output-on-failure >"$out/gpu_tests.log" 2>&1 || fail "ctest -L gpu"
  GPUREC_CUDA_SYNC=1 ctest --test-dir "$build" -L gpu --output-on-failure >"$out/gpu_tests_sync.log" 2>&1 ||
    fail "ctest -L gpu with GPUREC_CUDA_SYNC=1"
  ctest --test-dir "$build" -j "$(nproc)" --output-on-failure >"$out/all_tests.log" 2>&1 || fail "the whole ctest suite"
  grep -hE "tests passed|Skipped|Failed|\*\*\*" "$out"/gpu_tests.log "$out"/all_tests.log | tee -a "$out/session.log"
}

stage_sanitize() {
  local cs
  cs="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
  for t in "$build"/tests/test_gpu_*; do
    for tool in memcheck racecheck synccheck; do
      local name log
      name="$(basename "$t")"
      log="$out/sanitize_${name}_${tool}.log"
      if timeout 300 "$cs" --tool "$tool" --error-exitcode 9 "$t" >"$log" 2>&1; then
        log "$tool clean: $name"
      else
        fail "$tool on $name (exit $?; see $(basename "$log"))"
        tail -20 "$log"
      fi
    done
  done
}

stage_leads() {
  local py_args=(--skip-python)
  if [[ -n "$(ls .devkit/imbalanced_learn-*.whl 2>/dev/null)" ]] &&
    python3 -m pip install -q --no-index --no-deps --target /tmp/gpurec-site .devkit/imbalanced_learn-*.whl &&
    PYTHONPATH=/tmp/gpurec-site python3 -c 'import imblearn, sklearn, pandas' 2>/dev/null; then
    py_args=()
  fi
  PYTHONPATH=/tmp/gpurec-site PYTHONUNBUFFERED=1 python3 bench/leads_vs_sklearn.py --gpurec "$build/gpurec" \
    --device cuda --threads 2 --workdir /tmp/gpurec_leads_bench --out "$out/leads_cuda.md" \
    --note "GPU session (bench/gpu_session.sh): gpurec on the lent GPU with 2 CPU threads; Python on 2 cores of the same machine" \
    "${py_args[@]}" >"$out/leads.log" 2>&1 || fail "leads bench (see leads.log)"
  tail -5 "$out/leads.log"
  # the same evaluation within less device memory: the logistic regressions go in batches of
  # clusters (the global model needs the whole market, ~400 MB, so small budgets are refused,
  # naming --max-device-mem); every budget that runs must give the same metrics
  local w=/tmp/gpurec_leads_bench ran=0
  local args=(leads eval --market "$w/market.csv" --portfolio "$w/portfolio1.csv" --k 8 --seed 42
    --eval-seed 42 --n-init 1 --device cuda --threads 2)
  "$build/gpurec" "${args[@]}" --json "$out/leads_mem_all.json" >"$out/leads_mem_all.log" 2>&1 ||
    fail "leads eval with all memory (see leads_mem_all.log)"
  for mib in 1024 800 640 512 256; do
    if "$build/gpurec" "${args[@]}" --max-device-mem "$mib" --json "$out/leads_mem_$mib.json" \
      >"$out/leads_mem_$mib.log" 2>&1; then
      ran=1
      python3 - "$out/leads_mem_all.json" "$out/leads_mem_$mib.json" "$mib" <<'PY' |
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
same = a["map"] == b["map"] and a["auc"] == b["auc"]
print(f"leads in {sys.argv[3]} MiB: MAP@10 {b['map']['10']} AUC {b['auc']},",
      "the same as with all memory" if same else f"DIFFERENT (all memory: {a['map']['10']}, {a['auc']})")
sys.exit(0 if same else 1)
PY
        tee -a "$out/session.log" || fail "leads in $mib MiB differs from all memory"
    else
      log "leads in $mib MiB: refused: $(tail -1 "$out/leads_mem_$mib.log")"
    fi
  done
  [[ $ran == 1 ]] || fail "no device-memory budget let the leads evaluation run"
}

# seconds a command takes, its output in $out/$1.log
timed() {
  local name=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  "$@" >"$out/$name.log" 2>&1 || { fail "$name (see $name.log)"; return 1; }
  t1=$(date +%s.%N)
  log "$name: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }'), $(grep -hE 'L-BFGS iterations|Newton steps' "$out/$name.log" | head -1)"
}

stage_logreg() {
  local csv=/tmp/gpurec_logreg_20000x1500.csv g="$build/gpurec"
  if [[ ! -s $csv ]]; then # y from a planted direction with logistic noise (Box-Muller normals)
    awk 'BEGIN { srand(11); n = 20000; d = 1500; printf "y"; for (j = 0; j < d; j++) printf ",x%d", j; print "";
      for (j = 0; j < d; j++) w[j] = (j % 7 - 3) / 40;
      for (i = 0; i < n; i++) { z = 0; line = "";
        for (j = 0; j < d; j++) { x = sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand()); z += w[j] * x; line = line sprintf(",%.5f", x) }
        print ((rand() < 1 / (1 + exp(-z))) ? 1 : 0) line } }' >"$csv" || { fail "logreg CSV"; return; }
  fi
  for solver in lbfgs newton; do
    timed "logreg_cuda_$solver" "$g" logreg --input "$csv" --label y --solver "$solver" --device cuda \
      --coef "$out/coef_cuda_$solver.csv"
    timed "logreg_cpu_$solver" "$g" logreg --input "$csv" --label y --solver "$solver" --device cpu \
      --threads "$(nproc)" --coef "$out/coef_cpu_$solver.csv"
    paste -d, "$out/coef_cuda_$solver.csv" "$out/coef_cpu_$solver.csv" | awk -F, -v s="$solver" \
      'NR > 1 { d = $2 - $4; if (d < 0) d = -d; if (d > m) m = d } END { printf "logreg %s: CUDA vs CPU coefficients differ by %.2e at most\n", s, m; exit !(NR > 2 && m <= 1e-4) }' |
      tee -a "$out/session.log" || fail "logreg $solver: CUDA and CPU coefficients differ"
  done
  local w=/tmp/gpurec_leads_bench
  if [[ -s $w/market.csv ]]; then
    timed leads_cuda_lbfgs "$g" leads eval --market "$w/market.csv" --portfolio "$w/portfolio1.csv" \
      --k 8 --seed 42 --eval-seed 42 --n-init 1 --device cuda --threads 2 --solver lbfgs \
      --json "$out/leads_cuda_lbfgs.json"
  else
    log "no $w/market.csv (the leads stage writes it): leads with L-BFGS skipped"
  fi
}

stage_als() {
  bash bench/gpu_als_lastfm.sh --gpurec "$build/gpurec" --sanitize --out "$out/als_lastfm.md" \
    >"$out/als.log" 2>&1 || fail "ALS bench (see als.log)"
  tail -5 "$out/als.log"
}

for s in "${stages[@]}"; do
  case "$s" in
    build | test | sanitize | leads | als | logreg)
      [[ "$s" != build && ! -x "$build/gpurec" ]] && stage_build
      log "stage $s"
      "stage_$s"
      ;;
    *) echo "gpu_session.sh: unknown stage $s (build test sanitize leads als logreg all)" >&2; exit 2 ;;
  esac
done
log "done, status $status"
exit $status
