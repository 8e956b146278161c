"""The README's first command runs the demo script: it must succeed, write what it says, and run again."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_runs_twice_and_writes_every_output(tmp_path):
    out = tmp_path / "out"
    env = {"ARCHSPEC": f"{sys.executable} -m archspec", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for _ in range(2):  # a second `make demo` replaces the first one's outputs
        r = subprocess.run(["bash", "scripts/demo.sh", str(out)], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300, check=False)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Traceback" not in r.stdout + r.stderr
    seeds = sorted(p.stem for p in (ROOT / "specs" / "seed").glob("*.yaml"))
    assert sorted(p.stem for p in (out / "solutions").glob("*.md")) == seeds
    assert len(list((out / "designs").glob("*.yaml"))) == 3
    run = out / "runs" / "digits-cnn"
    assert ({"metrics.json", "curves.png", "confusion_matrix.png", "model.safetensors"}
            <= {p.name for p in run.iterdir()})
    images = "svg" if shutil.which("dot") else "dot"
    assert {p.stem for p in (out / "diagrams").glob(f"*.{images}")} >= set(seeds)
