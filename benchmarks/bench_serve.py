"""`archspec serve`'s round trip: POST /api/check (validate + shapes + SVG via dot) for q6-design (target:
median under 100 ms), beside `archspec render` on the CLI; and a ResNet-18-deep sequential CNN, to show the
page stays responsive on big specs.

The server runs as its own process (`archspec serve --port 0 SPEC`), the client keeps one connection open as
the page's fetch does; each check sends the whole text, as the page does after every (debounced) edit.

    .venv/bin/python benchmarks/bench_serve.py [N]
"""
from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
Q6 = ROOT / "specs" / "seed" / "q6-design.yaml"


def resnet18_depth() -> str:
    """A plain (no skip connections) CNN with ResNet-18's 17 convs, batch norms and ReLUs: 56 layers."""
    layers = ["  - {type: conv2d, out_channels: 64, kernel_size: 7, stride: 2, padding: 3}",
              "  - {type: batchnorm2d}", "  - {type: relu}",
              "  - {type: maxpool2d, kernel_size: 3, stride: 2, padding: 1}"]
    for stage, channels in enumerate((64, 128, 256, 512)):
        for conv in range(4):
            stride = 2 if stage and conv == 0 else 1
            layers += [f"  - {{type: conv2d, out_channels: {channels}, kernel_size: 3, stride: {stride}, padding: 1}}",
                       "  - {type: batchnorm2d}", "  - {type: relu}"]
    layers += ["  - {type: adaptive_avgpool2d, output_size: 1}", "  - {type: flatten}",
               "  - {type: linear, out_features: 1000}"]
    return "kind: cnn\nname: resnet18-depth\ninput: [224, 224, 3]\nlayers:\n" + "\n".join(layers) + "\n"


def percentile(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def round_trips(port: int, text: str, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"text": text}).encode()
    headers = {"Content-Type": "application/json", "Host": f"127.0.0.1:{port}"}
    times = []
    for i in range(n + 3):  # 3 warm-up calls: the first imports the kinds' modules
        t = time.perf_counter()
        conn.request("POST", "/api/check", body, headers)
        doc = json.loads(conn.getresponse().read())
        if i >= 3:
            times.append(time.perf_counter() - t)
    assert doc["svg"] and doc["shapes"], "the check did not draw"
    conn.close()
    return times


def cli_render(path: Path, n: int) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "archspec", "render", str(path), "-o", f"{tmp}/x.svg"],
                           capture_output=True, check=True)
            times.append(time.perf_counter() - t)
    return times


def main(n: int = 50) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "archspec", "serve", "--port", "0", str(Q6)],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        port = int(server.stdout.readline().split(":")[3].split("/")[0])
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "resnet18-depth.yaml"
            big.write_text(resnet18_depth())
            rows = [("q6-design", round_trips(port, Q6.read_text(), n), cli_render(Q6, max(3, n // 10))),
                    ("resnet18-depth (56 layers)", round_trips(port, big.read_text(), max(10, n // 2)),
                     cli_render(big, max(3, n // 10)))]
    finally:
        server.terminate()
        server.wait(10)
    print(f"{'spec':<28} {'serve median':>13} {'p95':>8} {'CLI render median':>18}   (ms; {n} checks of q6)")
    for name, serve, cli in rows:
        print(f"{name:<28} {statistics.median(serve) * 1000:>13.1f} {percentile(serve, 0.95) * 1000:>8.1f} "
              f"{statistics.median(cli) * 1000:>18.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
