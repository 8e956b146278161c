"""Rendering q3b and q6-design to SVG, including the dot call (target: well under 1 s each).

Side by side, per spec (median of N runs):
  archspec   load + draw + dot -Tsvg, in-process (what `archspec.render` + image() costs)
  draw only  load + draw (the DOT text, no Graphviz)
  dot alone  the baseline: Graphviz's own `dot -Tsvg` on the same DOT text
  CLI        `archspec render SPEC -o x.svg` as a fresh process (Python start-up included)

    .venv/bin/python benchmarks/bench_render.py [N]
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from timing import median_time

ROOT = Path(__file__).resolve().parent.parent
SPECS = [ROOT / "specs" / "seed" / "q3b.yaml", ROOT / "specs" / "seed" / "q6-design.yaml"]


def main(n: int = 10) -> None:
    from archspec.diagrams import render
    from archspec.diagrams.output import image
    from archspec.validation import load

    cli = str(Path(sys.executable).with_name("archspec"))
    print(f"{'spec':<12} {'archspec':>10} {'draw only':>10} {'dot alone':>10} {'CLI':>10}   (median of {n}, seconds)")
    with tempfile.TemporaryDirectory() as tmp:
        for path in SPECS:
            source = render(load(path)).source
            full = median_time(lambda: image(render(load(path)), "svg"), n)
            draw = median_time(lambda: render(load(path)).source, n)
            dot = median_time(lambda: subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                                                  check=True), n)
            out = str(Path(tmp) / "x.svg")
            proc = median_time(lambda: subprocess.run([cli, "render", str(path), "-o", out], capture_output=True,
                                                   check=True), max(3, n // 3))
            print(f"{path.stem:<12} {full:>10.3f} {draw:>10.4f} {dot:>10.3f} {proc:>10.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
