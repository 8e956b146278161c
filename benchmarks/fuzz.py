"""Fuzz archspec for N minutes: mutated specs of specs/ and generated equation texts through the public API.

    .venv/bin/python benchmarks/fuzz.py --minutes 10 --out fuzz-findings/ [--seed 1] [--limit 5]

Each input goes through tests/fuzzing.py's ``exercise`` (load, check_text, validate --suggest, shapes, render
source, explain in every format, check, design count/top), each call under ``--limit`` seconds and 1 GB of
peak memory (the process's address space is also capped). A finding (an exception other than ArchspecError,
a call past the limit, memory beyond the budget) is shrunk line by line and written to --out as a
reproducer: ``<call>-<n>.yaml`` with the finding in its first comment lines. Prints inputs and findings.
"""
from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fuzzing import exercise, make_case, minimal  # noqa: E402


def cap_memory(gb: float) -> None:
    """Cap the address space at what the process uses now plus ``gb`` (a runaway call fails, not the machine)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[0])
    limit = pages * resource.getpagesize() + int(gb * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--out", default="fuzz-findings")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=float, default=5.0, help="seconds per call")
    args = p.parse_args(argv)
    import archspec  # noqa: F401  (imported before the cap: its own size is not the budget)
    import archspec.design  # noqa: F401
    import graphviz  # noqa: F401

    cap_memory(1.5)
    rng = random.Random(args.seed)
    out = Path(args.out)
    end = time.monotonic() + args.minutes * 60
    inputs, seen, findings = 0, set(), 0
    while time.monotonic() < end:
        text, file = make_case(rng.randrange)
        inputs += 1
        try:
            found = exercise(text, file, args.limit)
        except MemoryError:
            found = None
            print(f"input {inputs}: MemoryError under the address-space cap", file=sys.stderr)
        if found is None:
            continue
        findings += 1
        if found.signature() in seen:
            continue
        seen.add(found.signature())
        print(f"input {inputs}: {found.kind} in {found.call}, shrinking", file=sys.stderr, flush=True)
        small = minimal(text, file, found, args.limit)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{found.call.replace(' ', '-').replace('/', '-')}-{len(seen)}.yaml"
        head = "".join(f"# {line}\n" for line in [f"finding: {found.kind} in {found.call} (from {file.name})",
                                                  *found.detail.strip().splitlines()[-6:]])
        path.write_text(head + small + "\n")
        print(f"finding {len(seen)}: {found.kind} in {found.call} -> {path}", file=sys.stderr)
    print(f"{inputs:,} inputs in {args.minutes:g} minutes, {findings} finding(s), {len(seen)} distinct")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
