"""archspec shapes SPEC: every layer's shape with the arithmetic, params and MACs."""
from __future__ import annotations

import json
import sys

from . import add_format


def register(sub):
    p = sub.add_parser("shapes", help="shape, params and MACs of every layer, with the arithmetic shown")
    p.add_argument("specs", nargs="+", metavar="SPEC")
    add_format(p, ["text", "markdown", "json"], "text")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..loader import load_file
    from ..diagnostics import SpecError
    from ..tables import shapes_table
    from ..validation import parse_document

    status, docs = 0, []
    for path in args.specs:
        try:
            spec, diags = parse_document(load_file(path))
        except SpecError as exc:
            spec, diags = None, exc.diagnostics
        if spec is None or not hasattr(spec, "shapes"):
            print("\n".join(d.format(path) for d in diags) or f"{path}: not a cnn spec; shapes needs kind: cnn",
                  file=sys.stderr)
            status = 1
            continue
        report = spec.shapes()
        # problems do not stop the table (a student wants to see where a design fails)
        if diags:
            print("\n".join(d.format(path) for d in diags), file=sys.stderr)
            status = 1
        if args.format == "json":
            docs.append({"path": path, "name": spec.title, **report.to_json()})
        else:
            print(shapes_table(report, args.format, title=f"{spec.title} ({path})"))
            print()
    if args.format == "json":
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
    return status
