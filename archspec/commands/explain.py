"""archspec explain SPEC: a worked solution, as a student would write it by hand."""
from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

from ..diagnostics import SpecError
from . import int_in, spec_with, write_output

FORMATS = {".md": "markdown", ".tex": "latex", ".json": "json", ".txt": "text"}  # -o extension -> format


def _steps(text: str) -> int:
    from ..equations.solve import MAX_STEPS  # imported when the option is given, not on every start

    return int_in(1, MAX_STEPS)(text)


def _activation(text: str) -> str:
    from ..equations.solve import check_activation  # imported when the option is given, not on every start

    try:
        return check_activation(text)
    except SpecError as exc:
        raise argparse.ArgumentTypeError(f"unknown activation {text!r}; {exc.diagnostics[0].hint}") from None


def register(sub):
    p = sub.add_parser("explain", help="worked solution: forward/backprop steps, convolution sums, shape arithmetic")
    p.add_argument("spec", metavar="SPEC", help="a spec file of any kind")
    p.add_argument("--format", choices=list(FORMATS.values()),
                   help="output format (default: from the -o extension .md .tex .json .txt, else markdown)")
    p.add_argument("--steps", type=_steps, metavar="N", help="backpropagation steps (equation networks; default 1)")
    p.add_argument("--activation", type=_activation, metavar="NAME",
                   help="override every hidden activation, e.g. relu (equation networks)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of stdout")
    p.set_defaults(func=run)


def run(args) -> int:
    spec, explain = spec_with(args.spec, "explain", "explain")
    if spec is None:
        return explain
    # only the options given, and only those the kind's explain names (a cnn has no --activation)
    options = {k: v for k, v in (("steps", args.steps), ("activation", args.activation)) if v is not None}
    named = inspect.signature(explain).parameters
    for option in options:
        if option not in named:
            print(f"archspec explain: --{option} does not apply to kind '{spec.kind}'", file=sys.stderr)
            return 2
    suffix = Path(args.output or "").suffix.lower()
    if not args.format and suffix and suffix not in FORMATS:  # x.pdf got Markdown text
        print(f"archspec explain: cannot tell the format from '{args.output}': use "
              f"{', '.join(FORMATS)}, or --format", file=sys.stderr)
        return 2
    fmt = args.format or FORMATS.get(suffix, "markdown")
    text = explain(spec, format=fmt, **options)
    if args.output:
        return 0 if write_output("explain", args.output, lambda path: Path(path).write_text(text + "\n")) else 1
    else:
        print(text)
    return 0
