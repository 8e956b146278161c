"""archspec shapes SPEC: every layer's shape with the arithmetic, params and MACs."""
from __future__ import annotations

import json
import sys

from ..diagnostics import Diagnostic, SpecError
from ..loader import load_file
from ..markup import user_text
from ..validation import parse_document
from . import add_format


def register(sub):
    p = sub.add_parser("shapes", help="shape, params and MACs of every layer, with the arithmetic shown")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="cnn spec files")
    add_format(p, ["text", "markdown", "json"], "text")
    p.add_argument("--collapse", action="store_true", help="specs with blocks: one row per block use, not its layers")
    p.set_defaults(func=run)


def _parse(path: str):
    """(spec or None, located diagnostics); a spec of another kind is a diagnostic at its kind."""
    try:
        doc = load_file(path)
        spec, diags = parse_document(doc)
    except SpecError as exc:
        return None, exc.diagnostics
    if spec is not None and not hasattr(spec, "shapes"):
        return None, [doc.source.place(Diagnostic("shapes-kind", f"shapes needs kind: cnn, not kind: {spec.kind}",
                                                  ("kind",)))]
    return spec, diags


def run(args) -> int:
    from ..tables import shapes_table  # start-up: tables loads the cnn layers, which validate of other kinds skips

    status, docs = 0, []
    for path in args.specs:
        spec, diags = _parse(path)
        if diags:
            print("\n".join(d.format(path) for d in diags), file=sys.stderr)
            status = 1
        problems = {"diagnostics": [d.to_json() for d in diags]}
        if spec is None:
            docs.append({"path": path, "complete": False, **problems})
            continue
        report = spec.shapes()  # problems do not stop the table (a student wants to see where a design fails)
        if args.format == "json":
            docs.append({"path": path, "name": spec.title, **report.to_json(), **problems})
        else:
            print(shapes_table(report, args.format, title=f"{user_text(spec.title, args.format)} "
                               f"({user_text(path, args.format)})", collapse=args.collapse))
            print()
    if args.format == "json":  # one SPEC: its object; several: a list, one entry per SPEC in order
        print(json.dumps(docs[0] if len(args.specs) == 1 else docs, indent=2))
    return status
