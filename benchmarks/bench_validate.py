"""Validation and shape inference speed, side by side with their baselines, in one run.

    .venv/bin/python benchmarks/bench_validate.py

Targets (issue 2): `archspec validate` of one spec < 0.3 s wall including interpreter start;
analytic shape inference >= 1000x faster than torchinfo.summary (a real forward pass).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from timing import wall

ROOT = Path(__file__).resolve().parent.parent
Q5 = ROOT / "specs/seed/q5-architecture.yaml"


def per_call(fn, min_time: float = 0.5) -> float:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_time or n < 3:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


def main():
    py = sys.executable
    rows = [
        ("archspec validate (1 spec, q5)", wall([py, "-m", "archspec", "validate", "-q", str(Q5)], check=False)),
        ("archspec validate (all of specs/)", wall([py, "-m", "archspec", "validate", "-q", str(ROOT / "specs/seed"),
                                                   str(ROOT / "specs/examples")], check=False)),
        ('python -c "import torch"', wall([py, "-c", "import torch"], check=False)),
        ('python -c "pass" (interpreter start)', wall([py, "-c", "pass"], check=False)),
    ]
    print("wall time, median of 7 runs (interpreter start included)")
    for name, t in rows:
        print(f"  {name:40s} {t * 1000:8.1f} ms")

    import torch
    from torch import nn
    from torchinfo import summary

    import archspec

    spec = archspec.load(str(Q5))
    analytic = per_call(spec.shapes)
    layers, c = [], 3
    for layer in spec.layers:  # the same network in torch
        d = layer.model_dump(exclude={"type", "name"}, exclude_defaults=True)
        make = {"conv2d": lambda: nn.Conv2d(c, **d), "relu": nn.ReLU, "maxpool2d": lambda: nn.MaxPool2d(**d),
                "flatten": nn.Flatten, "linear": lambda: nn.Linear(24 * 24 * 256, **d)}[layer.type]
        layers.append(make())
        c = d.get("out_channels", c)
    model = nn.Sequential(*layers).eval()
    torch.set_num_threads(2)
    info = per_call(lambda: summary(model, input_size=(1, 3, 224, 224), verbose=0), min_time=2.0)
    print("\nshape inference of q5-architecture at 224x224x3")
    print(f"  archspec analytic (spec.shapes())        {analytic * 1e6:10.1f} us")
    print(f"  torchinfo.summary (real forward pass)    {info * 1e6:10.1f} us")
    print(f"  ratio                                    {info / analytic:10.0f}x")


if __name__ == "__main__":
    main()
