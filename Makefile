# Entry points; CMake does the building. `make demo` and `make test` install
# missing Debian packages first (as root), configure, build, then run.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo test test-cpu sanitize format clean

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

format:
	@clang-format -i $$(git ls-files '*.c' '*.h' '*.cu' '*.cuh')

clean:
	rm -rf build build-asan out
