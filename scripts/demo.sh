#!/usr/bin/env bash
# The main job on the built-in examples: validate every spec, print shapes, write worked solutions
# and diagrams, search the Q6 design space, and train a small CNN on the embedded digits.
# Everything lands in $1 (default: out/).
set -euo pipefail
OUT=${1:-out}
A=${ARCHSPEC:-.venv/bin/archspec}  # tests set ARCHSPEC="python -m archspec"
mkdir -p "$OUT/solutions" "$OUT/diagrams" "$OUT/designs"
step() { printf '\n=== %s\n' "$*"; }

step "archspec validate specs/seed specs/examples specs/rules"
$A validate specs/seed specs/examples specs/rules

step "archspec validate --suggest specs/invalid (one broken spec per diagnostic code; these fail on purpose)"
$A validate --suggest specs/invalid || true

for s in specs/seed/*.yaml; do
  if grep -q '^kind: cnn' "$s"; then
    step "archspec shapes $s"
    $A shapes "$s"
  fi
done

step "archspec explain specs/seed/q2-backprop.yaml (one step of backpropagation, worked)"
$A explain specs/seed/q2-backprop.yaml
step "archspec explain specs/seed/q4c-maxpool.yaml (max pooling, every cell)"
$A explain specs/seed/q4c-maxpool.yaml

step "worked solutions of every seed spec -> $OUT/solutions/"
for s in specs/seed/*.yaml; do
  $A explain "$s" -o "$OUT/solutions/$(basename "$s" .yaml).md"
done
ls "$OUT/solutions"

step "archspec check specs/examples/q2-student-answers.yaml (grading a hand-computed answer; one is wrong on purpose)"
$A check specs/examples/q2-student-answers.yaml || true

step "archspec render specs/seed -> $OUT/diagrams/"
if command -v dot >/dev/null 2>&1; then
  $A render specs/seed -o "$OUT/diagrams" --format svg
  $A render specs/seed -o "$OUT/diagrams" --format png
  $A render specs/seed/q2-backprop.yaml --grads -o "$OUT/diagrams/q2-backprop-grads.svg"
else
  echo "Graphviz 'dot' is not installed: writing DOT text only (apt-get install graphviz for SVG/PNG)"
  $A render specs/seed -o "$OUT/diagrams" --format dot
fi

step "graphs and blocks: ResNet-18 (shortcuts), the inception block (branches), VGG-16 (blocks)"
$A shapes specs/examples/resnet18.yaml --collapse
$A shapes specs/examples/inception-block.yaml
if command -v dot >/dev/null 2>&1; then
  $A render specs/examples/resnet18.yaml --collapse -o "$OUT/diagrams/resnet18-collapsed.svg"
  $A render specs/examples/resnet18.yaml --expand -o "$OUT/diagrams/resnet18.svg"
  $A render specs/examples/inception-block.yaml -o "$OUT/diagrams/inception-block.svg"
  $A render specs/examples/vgg16.yaml -o "$OUT/diagrams/vgg16.svg"
fi

step "archspec design specs/seed/q6-design.yaml --count, then the 3 designs with the fewest parameters"
$A design specs/seed/q6-design.yaml --count
$A design specs/seed/q6-design.yaml --top 3 --by params --out "$OUT/designs" | head -12

step "archspec train specs/examples/digits-cnn.yaml (embedded 8x8 digits, no download)"
$A train specs/examples/digits-cnn.yaml --out "$OUT/runs/digits-cnn" --force  # --force: a re-run replaces the last demo run

printf '\nDone. Open %s/diagrams/*.svg, %s/solutions/*.md and %s/runs/digits-cnn/ (curves.png, confusion_matrix.png, classification_report.txt).\n' "$OUT" "$OUT" "$OUT"
