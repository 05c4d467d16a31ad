#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install, build, and count the linear regions
# of the bundled two-moons classifier in [-1,1]^2.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
./build/relutope count examples/two_moons.onnx --box -1:1
