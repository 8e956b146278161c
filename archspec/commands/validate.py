"""archspec validate PATH...: every problem of every file, located."""
from __future__ import annotations

import json
import sys

from ..diagnostics import reports_json
from ..validation import check_file, spec_files
from . import add_format


def register(sub):
    p = sub.add_parser("validate", help="check specs against the format, shapes and design rules")
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders of them")
    add_format(p, ["text", "json", "github"], "text")  # github: annotations for GitHub Actions
    p.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    p.add_argument("--suggest", action="store_true", help="propose verified repairs for specs that break their rules")
    p.set_defaults(func=run)


def run(args) -> int:
    files = spec_files(args.paths)
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        print(f"archspec validate: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not files:
        print("archspec validate: no .yaml files found", file=sys.stderr)
        return 2
    reports = [check_file(f) for f in files]
    fixes = {}
    if args.suggest:
        from ..design.repair import report_suggestions  # only with --suggest: the design search loads on use

        fixes = {r.file: report_suggestions(r) for r in reports}
    if args.format == "json":
        doc = json.loads(reports_json(reports))
        for entry in doc["files"]:
            if fixes.get(entry["path"]) is not None:
                entry["suggestions"] = fixes[entry["path"]]
        print(json.dumps(doc, indent=2))
    elif args.format == "github":  # one workflow command per diagnostic: GitHub shows it on the file's line
        for r in reports:
            print("".join(d.github(r.file) + "\n" for d in r.diagnostics), end="")
    else:
        for r in reports:
            if r.diagnostics:
                print(r.text())
                print("".join(f"    suggest: {s}\n" for s in fixes.get(r.file) or []), end="")
            elif not args.quiet:
                print(f"{r.file}: ok")
        bad = sum(not r.valid for r in reports)
        if not args.quiet or bad:
            print(f"{len(reports) - bad} valid, {bad} invalid", file=sys.stderr)
    return 1 if any(not r.valid for r in reports) else 0
