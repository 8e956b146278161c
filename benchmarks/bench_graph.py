"""Graph CNNs: shape inference of ResNet-18 beside torchinfo's real forward pass, and `archspec validate`
of it beside `python -c "import torch"`, side by side in one run.

    .venv/bin/python benchmarks/bench_graph.py
"""
from __future__ import annotations

import sys
from pathlib import Path

from timing import median_time, wall

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "examples" / "resnet18.yaml"


def main() -> None:
    import torch
    import torchinfo

    import archspec
    from archspec.torchbuild.cnn_table import torch_dims

    spec = archspec.load(SPEC)
    ours = median_time(lambda: spec.shapes(), 50)
    model = archspec.build(spec).eval()
    x = torch.zeros(1, *torch_dims(spec.input_shape))
    theirs = median_time(lambda: torchinfo.summary(model, input_data=x, verbose=0, device="cpu"), 5)
    print(f"shapes of resnet18 (in-process): archspec {ours * 1e3:.2f} ms, torchinfo.summary {theirs * 1e3:.0f} ms "
          f"({theirs / ours:,.0f}x)")
    validate = wall([sys.executable, "-m", "archspec", "validate", str(SPEC)])
    torch_import = wall([sys.executable, "-c", "import torch"])
    print(f"archspec validate resnet18.yaml (wall, median of 7): {validate * 1e3:.0f} ms; python -c 'import torch': "
          f"{torch_import * 1e3:.0f} ms (ratio {validate / torch_import:.2f})")


if __name__ == "__main__":
    main()
