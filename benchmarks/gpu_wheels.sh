#!/usr/bin/env bash
# Run HERE (a machine that reaches PyPI), before benchmarks/gpu_check.sh goes to a lent GPU machine.
# That machine's image (Python 3.12, x86-64) has torch, numpy, scikit-learn, matplotlib, Pillow, pyyaml,
# safetensors and pytest, but not pydantic, graphviz or torchinfo; this fetches their wheels into .whl/
# (ignored by git through .git/info/exclude), which the device run carries: run(carry=[".whl"]).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
py=${PYTHON:-.venv/bin/python}
pins=$("$py" -m pip list --format freeze 2>/dev/null |
       grep -iE '^(pydantic|pydantic[-_]core|annotated[-_]types|typing[-_]inspection|typing[-_]extensions|graphviz|torchinfo)==' |
       sed 's/_/-/g')
rm -rf .whl && mkdir .whl
for pin in $pins; do
  "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "$pin"
done
ls .whl
