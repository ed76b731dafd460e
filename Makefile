# Entry points; CMake does the building. `make demo` and `make test` install
# missing Debian packages first (as root), configure, build, then run.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

FUZZ_SECONDS ?= 60
FUZZ_RUNS ?= 2500000
FUZZ_SEED ?= 1

.PHONY: all deps configure build demo test sanitize valgrind portable fuzz format clean

all: build

deps:
	@bash scripts/install_deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@./$(BUILD)/gpurec demo

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Everything under AddressSanitizer + UndefinedBehaviorSanitizer (CPU backend).
sanitize:
	@$(MAKE) --no-print-directory test BUILD=build-asan \
	  CMAKE_FLAGS="-DGPUREC_SANITIZE=ON -DGPUREC_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo"

# Every test program under valgrind (no -march=native: valgrind lacks AVX-512),
# then the command line: an ALS and a leads run, exports, and failures.
valgrind: deps
	@command -v valgrind >/dev/null || { echo "make valgrind needs valgrind (apt-get install valgrind)"; exit 1; }
	@cmake -S . -B build-vg -DGPUREC_NATIVE=OFF -DGPUREC_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@MAKEFLAGS= cmake --build build-vg -j $(JOBS) >/dev/null
	@set -e; for t in build-vg/tests/test_*; do \
	  rc=0; OMP_NUM_THREADS=1 valgrind --error-exitcode=9 --leak-check=full \
	    --errors-for-leak-kinds=definite -q $$t >/dev/null 2>build-vg/valgrind.log || rc=$$?; \
	  if [ $$rc -eq 77 ]; then echo "skipped $$t"; elif [ $$rc -ne 0 ]; then \
	    cat build-vg/valgrind.log; echo "valgrind: $$t failed ($$rc)"; exit 1; \
	  else echo "valgrind-clean $$t"; fi; \
	done
	@bash scripts/valgrind_cli.sh build-vg/gpurec

# The ALS kernels hold 16-float blocks in vectors of the target's width and
# must give the same bits with AVX2 as with the build machine's own set
# (AVX-512 here): a fit with a build for x86-64-v3 (AVX2, FMA) against the
# release build's. On a machine without AVX2 there is nothing to compare.
portable: build
	@grep -q ' avx2 ' /proc/cpuinfo || { echo "portable: no AVX2 here, skipped"; exit 0; }; \
	cmake -S . -B build-v3 -DGPUREC_NATIVE=OFF -DGPUREC_CUDA=OFF -DGPUREC_BUILD_TESTS=OFF \
	  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="-march=x86-64-v3" >/dev/null && \
	MAKEFLAGS= cmake --build build-v3 -j $(JOBS) --target gpurec >/dev/null && \
	./$(BUILD)/gpurec gen interactions --scale small --seed 5 --out build-v3/events.csv >/dev/null 2>&1 && \
	for solver in cg cholesky; do \
	  for b in $(BUILD) build-v3; do \
	    ./$$b/gpurec als fit --input build-v3/events.csv --model build-v3/$$solver-$$(basename $$b).gpurec \
	      --factors 64 --iterations 3 --solver $$solver --device cpu --quiet || exit 1; \
	  done; \
	  cmp build-v3/$$solver-$$(basename $(BUILD)).gpurec build-v3/$$solver-build-v3.gpurec || \
	    { echo "portable: the $$solver model differs between the native and the AVX2 build"; exit 1; }; \
	  echo "portable: $$solver: the AVX2 build's model is the native build's, bit for bit"; \
	done

# libFuzzer on each target for at most FUZZ_RUNS inputs or FUZZ_SECONDS, from
# tests/fuzz/corpus_* with a fixed FUZZ_SEED, so a CI run replays a sequence
# already explored here; explore anew with FUZZ_SEED=$$RANDOM FUZZ_RUNS=-1.
# Crashes land in build-fuzz/crashes/ (add them to the corpus once fixed).
fuzz: deps
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@CC=clang cmake -S . -B build-fuzz -DGPUREC_FUZZ=ON -DGPUREC_CUDA=OFF -DGPUREC_NATIVE=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@MAKEFLAGS= cmake --build build-fuzz -j $(JOBS) --target fuzz_interactions fuzz_model fuzz_table fuzz_leads_model >/dev/null
	@mkdir -p build-fuzz/crashes
	@set -e; for t in interactions model table leads_model; do \
	  rm -rf build-fuzz/corpus_$$t && cp -r tests/fuzz/corpus_$$t build-fuzz/corpus_$$t; \
	  echo "fuzzing $$t: seed $(FUZZ_SEED), at most $(FUZZ_RUNS) runs or $(FUZZ_SECONDS) s"; \
	  ./build-fuzz/tests/fuzz_$$t build-fuzz/corpus_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -seed=$(FUZZ_SEED) -runs=$(FUZZ_RUNS) \
	    -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/crashes/$$t- 2>&1 | grep -E "^(stat::|#[0-9]+.*DONE|==|SUMMARY)" ; \
	done

format:
	@clang-format -i $$(git ls-files '*.c' '*.h' '*.cu' '*.cuh')

clean:
	rm -rf build build-asan build-fuzz build-vg build-v3 out
