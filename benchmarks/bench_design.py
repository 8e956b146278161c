"""Design search for the seed's Q6 rules: naive enumeration and archspec side by side, in one run.

    .venv/bin/python benchmarks/bench_design.py

The naive baseline walks every layer sequence the rules could mean (24 conv choices
for each of the 4 convs, 0-2 pools in any of the 5 gaps: 24^4 x 21 = 6,967,296
sequences) in plain Python, keeping those that reach 7 x 7 x 256 and the 10 with the
fewest parameters. Targets (issue 7): exact count < 0.3 s, --top 10 < 1 s.
"""
from __future__ import annotations

import heapq
import itertools
import sys
import time
from pathlib import Path

from timing import timed, wall

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
Q6 = ROOT / "specs/seed/q6-design.yaml"


def naive(problem):
    """Every sequence, one by one: sizes by PyTorch's formula, then params/MACs of the ones that fit."""
    rules = problem.rules.conv2d
    kernels = [k for k in range(1, int(rules["kernel_size"].max) + 1) if k % 2]
    paddings, strides = range(int(rules["padding"].max) + 1), range(1, int(rules["stride"].max) + 1)
    convs = list(itertools.product(kernels, paddings, strides))
    h, _, c_in = problem.input
    plan = [32, 64, 128, 256]
    placements = [slots for n in range(3) for slots in itertools.combinations_with_replacement(range(5), n)]
    found, best, seen = 0, [], 0
    for slots in placements:
        pools = [slots.count(i) for i in range(5)]
        for seq in itertools.product(convs, repeat=4):
            seen += 1
            size, ok = h, True
            for i in range(5):
                for _ in range(pools[i]):
                    if size < 2:
                        ok = False
                    size = (size - 2) // 2 + 1
                if i < 4:
                    k, p, s = seq[i]
                    if size + 2 * p < k:
                        ok = False
                    size = (size + 2 * p - k) // s + 1
            if not ok or size != 7:
                continue
            found += 1
            params = macs = 0
            size, cin = h, c_in
            for i in range(5):
                for _ in range(pools[i]):
                    size = (size - 2) // 2 + 1
                if i < 4:
                    k, p, s = seq[i]
                    size = (size + 2 * p - k) // s + 1
                    params += cin * k * k * plan[i] + plan[i]
                    macs += size * size * plan[i] * cin * k * k
                    cin = plan[i]
            params += 7 * 7 * 256 * 5 + 5
            macs += 7 * 7 * 256 * 5
            item = (-params, -macs)
            if len(best) < 10:
                heapq.heappush(best, item)
            elif item > best[0]:
                heapq.heapreplace(best, item)
    return seen, found, sorted((-p, -m) for p, m in best)


def main():
    from archspec.design import count, load_problem, top

    t_count, n = timed(lambda: count(load_problem(Q6).space).count)  # a fresh space each run: no warm cache
    t_top, designs = timed(lambda: top(load_problem(Q6).space, 10, "params"))
    print(f"archspec count:           {t_count * 1000:8.1f} ms   ({n:,} designs)")
    print(f"archspec top 10 (params): {t_top * 1000:8.1f} ms")
    cli_count = wall([sys.executable, "-m", "archspec", "design", str(Q6), "--count"], 5)
    print(f"archspec design --count   (CLI, wall incl. interpreter start): {cli_count:.2f} s")
    print(f"archspec design --top 10  (CLI, wall incl. interpreter start): "
          f"{wall([sys.executable, '-m', 'archspec', 'design', str(Q6), '--top', '10'], 5):.2f} s")
    t = time.perf_counter()
    seen, found, best = naive(load_problem(Q6))  # once: it takes ~half a minute
    t_naive = time.perf_counter() - t
    print(f"naive enumeration:        {t_naive:8.1f} s    ({seen:,} sequences, {found:,} meet the rules)")
    same = found == n and best == [(d.params, d.macs) for d in designs]
    print(f"same count and same top 10 (params, MACs): {same}")
    print(f"ratio: count {t_naive / t_count:,.0f}x faster, top 10 {t_naive / t_top:,.0f}x faster than the naive walk")
    targets = t_count < 0.3 and t_top < 1.0
    print(f"targets (count < 0.3 s, top 10 < 1 s): {'met' if targets else 'MISSED'}")
    return 0 if same and targets else 1


if __name__ == "__main__":
    sys.exit(main())
