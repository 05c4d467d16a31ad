#!/usr/bin/env bash
# Installs what relutope needs to build and test on Debian 12 (run as root), then configures and
# builds it in ./build and installs it into /usr/local. Used by tools/quickstart.sh and tools/test.sh; safe to run again.
# With --fuzz it also installs clang 14 and its runtimes, which the fuzzers need (tests/fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config libeigen3-dev libboost-program-options-dev nlohmann-json3-dev
          libonnx-dev libprotobuf-dev protobuf-compiler libglpk-dev libgmp-dev libcairo2-dev libcgal-dev
          libgtest-dev libgmock-dev libopenmpi-dev openmpi-bin
          pybind11-dev python3-dev python3-numpy python3-pytest python3-torch python3-matplotlib
          python3-torchvision python3-sklearn python3-onnx)
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang-14 libclang-rt-14-dev libomp-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
# Debian's python3 by path: the Python module is built for, and installed where, that interpreter looks.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRELUTOPE_BUILD_PYTHON=ON -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build -j "$jobs"
# Into /usr/local: the relutope command, the C++ package (find_package(relutope)) and the Python module
# (/usr/local/lib/python3.11/dist-packages, on Debian python3's path), so `import relutope` works anywhere.
cmake --install build >/dev/null
