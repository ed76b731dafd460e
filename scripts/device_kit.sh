#!/usr/bin/env bash
# Packs what a GPU session needs on the lent device machine into .devkit/
# (ignored by git). That machine has nvcc, CMake, gcc and Python, but no
# OpenBLAS or LAPACKE and no network, so this takes this machine's OpenBLAS,
# LAPACKE and zlib headers and shared libraries (they need glibc 2.34 or later),
# and the imbalanced-learn wheel for the Python side of the leads bench.
# Then, with the device tool:  run  carry=[".devkit"]
#   command="bash bench/gpu_session.sh all"
# bench/gpu_session.sh unpacks the kit, builds with the CUDA backend and runs
# the GPU tests, compute-sanitizer and the benches.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kit="$repo/.devkit"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/include" "$stage/lib"

libdir=/usr/lib/x86_64-linux-gnu
for h in /usr/include/lapack.h /usr/include/lapacke.h /usr/include/lapacke_config.h \
  /usr/include/lapacke_mangling.h /usr/include/lapacke_utils.h \
  "$libdir"/../../include/x86_64-linux-gnu/openblas-pthread/{cblas.h,openblas_config.h} \
  /usr/include/zlib.h /usr/include/zconf.h; do
  [[ -f "$h" ]] || { echo "device_kit.sh: missing $h (apt-get install libopenblas-dev liblapacke-dev zlib1g-dev)" >&2; exit 1; }
  cp "$h" "$stage/include/"
done
# The libraries gpurec loads, under their sonames; libc, libm, libgomp and
# libgcc_s come from the device's own compiler and C library.
for so in libopenblas.so.0 liblapacke.so.3 liblapack.so.3 libblas.so.3 libtmglib.so.3 \
  libgfortran.so.5 libquadmath.so.0 libz.so.1; do
  src="$(readlink -f "$libdir/$so")"
  [[ -f "$src" ]] || { echo "device_kit.sh: missing $libdir/$so" >&2; exit 1; }
  cp "$src" "$stage/lib/$so"
done
rm -rf "$kit"
mkdir -p "$kit"
tar -C "$stage" -cJf "$kit/blas.tar.xz" include lib
# The device's Python (3.12) has pandas, numpy and scikit-learn, not imblearn.
imblearn="$(grep -E '^imbalanced-learn==' "$repo/bench/requirements.txt" | cut -d= -f3)"
if ! python3 -m pip download -q --no-deps --only-binary=:all: -d "$kit" \
  "imbalanced-learn==$imblearn" 2>/dev/null; then
  echo "device_kit.sh: could not fetch the imbalanced-learn wheel; the device bench will skip Python" >&2
fi
du -sh "$kit"
ls -la "$kit"
