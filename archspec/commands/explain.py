"""archspec explain SPEC: a worked solution, as a student would write it by hand."""
from __future__ import annotations


from . import add_format, spec_with


def register(sub):
    p = sub.add_parser("explain", help="worked solution: forward/backprop steps, convolution sums, shape arithmetic")
    p.add_argument("spec", metavar="SPEC")
    add_format(p, ["markdown", "latex", "json", "text"], "markdown")
    p.add_argument("--steps", type=int, default=1, help="backpropagation steps (equation networks)")
    p.add_argument("--activation", help="override every hidden activation, e.g. relu (equation networks)")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=run)


def run(args) -> int:
    spec, explain = spec_with(args.spec, "explain", "explain")
    if spec is None:
        return explain
    text = explain(spec, format=args.format, steps=args.steps, activation=args.activation)
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text + "\n")
    else:
        print(text)
    return 0
