#!/usr/bin/env bash
# The main job on the built-in examples: validate, shapes, worked solutions, diagrams, design search,
# and a short training run on the embedded digits. Everything lands in $1 (default: out/).
set -euo pipefail
OUT=${1:-out}
A=".venv/bin/archspec"
mkdir -p "$OUT"
step() { printf '\n=== %s\n' "$*"; }

step "archspec validate specs/seed specs/examples (every spec checked against format, shapes and rules)"
$A validate specs/seed specs/examples

step "archspec validate specs/invalid (one broken spec per diagnostic code: located messages)"
$A validate specs/invalid || true

for s in specs/seed/*.yaml; do
  if grep -q '^kind: cnn' "$s"; then
    step "archspec shapes $s"
    $A shapes "$s"
  fi
done
