"""archspec design RULES: how many designs meet the rules, and the best of them as spec files."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..diagnostics import SpecError
from . import add_format, int_in, write_output

METRICS = ("params", "macs", "memory", "depth")


def register(sub):
    p = sub.add_parser("design", help="count the designs a rule set allows; write the best as spec files")
    p.add_argument("rules", metavar="RULES", help="a cnn spec or rules file with input: and constraints:")
    p.add_argument("--count", action="store_true", help="only count the designs (exactly, without listing them)")
    p.add_argument("--top", type=int_in(1), metavar="K", help="the K best designs (default 5 unless --count)")
    p.add_argument("--by", choices=METRICS, default="params", help="rank by (smallest first; default: params)")
    p.add_argument("--out", metavar="DIR", help="write each design as a spec file into DIR")
    p.add_argument("--force", action="store_true", help="with --out: replace design files that were edited or "
                   "hold other designs")
    add_format(p, ["text", "json"], "text")
    p.set_defaults(func=run)


def _overview(designs, by, files, fmt="text") -> str:
    from ..tables import human, table  # start-up: tables loads the cnn layers, which validate of other kinds skips

    def code(x):  # conv 3/2/1 = kernel 3, stride 2, padding 1
        if x.type == "conv2d":
            (k, _), (s, _), (p, _) = (x.resolved()[q] for q in ("kernel_size", "stride", "padding"))
            return f"c{k}/{s}/{p}"
        return {"maxpool2d": "P", "avgpool2d": "A"}.get(x.type)

    rows = [[d.rank, f"{d.params:,}", human(d.macs), f"{human(d.memory)}B", d.depth,
             " ".join(c for c in map(code, d.layers) if c), files.get(d.rank, "")] for d in designs]
    return table(["#", "params", "MACs", "activations", "layers", "encoder (conv k/s/p, P = pool)", "file"], rows,
                 fmt, right={0, 1, 2, 3, 4})


def _design_table(d) -> str:
    from ..tables import dims, table  # start-up: as in _overview

    rows = [[x.index, x.name, x.settings, dims(x.output), f"{x.params:,}", f"{x.macs:,}"] for x in d.report.layers]
    rows.append(["", "total", "", "", f"{d.params:,}", f"{d.macs:,}"])
    return table(["#", "layer", "settings", "output", "params", "MACs"], rows, right={0, 4, 5})


def _read(path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def run(args) -> int:
    # start-up: the CLI registers every command, the design search loads on use
    from ..design import count, load_problem, top
    from ..design.write import design_yaml, file_name

    try:
        problem = load_problem(args.rules)
    except SpecError as exc:
        if args.format == "json":  # a JSON consumer still gets an object saying why (as shapes --format json)
            print(json.dumps({"rules": args.rules, "count": None,
                              "diagnostics": [d.to_json() for d in exc.diagnostics]}, indent=2))
        raise
    result = count(problem.space)
    k = args.top if args.top is not None else (0 if args.count else 5)
    designs = top(problem.space, k, args.by, problem.search.prefer) if result.count else []
    files = {}
    if args.out and designs:
        texts = {Path(args.out) / file_name(problem.name, args.by, d.rank):
                 design_yaml(problem, d, args.by, result.count)
                 for d in designs}
        changed = [p for p, text in texts.items() if p.is_file() and _read(p) != text]
        if changed and not args.force:  # a design file is a starting point users edit: never overwrite it silently
            more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
            print(f"archspec design: --out {args.out}: {changed[0]}{more} already exists and differs from this "
                  "design (edited, or written for other rules); nothing written. Use --force to replace, or "
                  "another --out", file=sys.stderr)
            return 1
        for d, (path, text) in zip(designs, texts.items()):
            if not write_output("design", path, lambda p, text=text: p.write_text(text), None):  # the table lists files
                return 1
            files[d.rank] = str(path)
    problems = [d.format(problem.file) for d in result.diagnostics]
    if args.format == "json":
        searched = None if problem.space.problems else problem.space.describe()
        print(json.dumps({"count": result.count, "by": args.by, "searched": searched,
                          "notes": result.notes, "diagnostics": [d.to_json() for d in result.diagnostics],
                          "designs": [d.to_json() | ({"file": files[d.rank]} if d.rank in files else {})
                                      for d in designs]}, indent=2))
    else:
        verb = "design meets" if result.count == 1 else "designs meet"
        print(f"{problem.name} ({problem.file}): {result.count:,} {verb} the rules")
        if not problem.space.problems:
            print(f"searched: {problem.space.describe()}")
        for note in result.notes:
            print(f"note: {note}")
        if designs:
            print(f"\nTop {len(designs)} by {args.by}:\n")
            print(_overview(designs, args.by, files))
            for d in designs:
                print(f"\n#{d.rank}" + (f" ({files[d.rank]})" if d.rank in files else ""))
                print(_design_table(d))
    if problems:
        print("\n".join(problems), file=sys.stderr)
    return 0 if result.count else 1
