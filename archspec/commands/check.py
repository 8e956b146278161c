"""archspec check SPEC: grade the hand-computed numbers in the spec's ``answers:`` block."""
from __future__ import annotations

import sys

from . import add_format, spec_with, tolerance


def register(sub):
    p = sub.add_parser("check", help="compare the spec's answers: block with archspec's own results")
    p.add_argument("spec", metavar="SPEC", help="a spec file with an answers: block")
    p.add_argument("--rtol", type=tolerance, default=1e-3,
                   help="relative tolerance (default 1e-3), against archspec's value, or against the change for an "
                        "updated weight, the loss and forward pass after the step; an answer equal to archspec's "
                        "value to the digits it is written with is right whatever the tolerance")
    add_format(p, ["text", "markdown", "json"], "text")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..answers import format_results  # start-up: the CLI registers every command, the command's work loads on use

    spec, grade = spec_with(args.spec, "answers", "check", warnings=True)  # e.g. an answer that names nothing
    if spec is None:
        return grade
    if getattr(spec, "answers", None) is None:
        print(f"archspec check: {args.spec} has no 'answers:' block", file=sys.stderr)
        return 2
    results = grade(spec, args.rtol)
    print(format_results(results, args.format, args.spec))
    return 0 if all(r.ok for r in results) else 1
