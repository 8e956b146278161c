"""archspec render SPEC... -o FILE|DIR|-: diagrams as SVG, PNG, PDF or DOT text."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..diagnostics import errors
from ..diagrams import RenderError, render
from ..diagrams.output import FORMATS, GraphvizMissing, RenderFailed, format_for, write
from ..kinds import capability, fact
from ..validation import check_file, spec_files
from . import write_output


def _cell(text: str) -> tuple[int, ...]:
    """'2,3' -> (2, 3); 'C,R,Q' for maps with several channels. 1-based, as the worked solutions count."""
    try:
        cell = tuple(int(v) for v in text.split(","))
    except ValueError:
        cell = ()
    if len(cell) not in (2, 3):
        raise argparse.ArgumentTypeError(f"expected ROW,COL (1-based) such as 1,2; received {text!r}")
    return cell


def register(sub):
    p = sub.add_parser("render", help="draw specs as diagrams (svg, png, pdf or dot)",
                       description="Draw each spec: equation networks neuron by neuron, CNNs layer by layer "
                                   "(layers that break a design rule in red), feature maps cell by cell.")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files or folders of them")
    p.add_argument("-o", "--output", metavar="FILE|DIR|-",
                   help="file (format from its extension), folder (one file per spec) or - for stdout; "
                        "default: SPEC-NAME.svg in the current folder")
    p.add_argument("--format", choices=FORMATS, help="override the format the extension implies (folder default: svg)")
    p.add_argument("--values", action="store_true", help="equations: z and a on every unit, the loss on the output")
    p.add_argument("--grads", action="store_true", help="equations: also dl/dw on every edge (implies --values)")
    p.add_argument("--layout", choices=("LR", "TB"), help="left-to-right or top-to-bottom (default: by kind)")
    p.add_argument("--group", action="store_true", help="cnn: one box per conv/linear layer with its activation")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--collapse", action="store_const", const=True, default=None,
                      help="cnn with blocks: one box per block use (a repeated use as one, 'x N')")
    size.add_argument("--expand", dest="collapse", action="store_const", const=False,
                      help="cnn with blocks: every layer, each use a cluster (the default up to 60 layers)")
    size.add_argument("--depth", type=int, metavar="K", help="cnn with nested blocks: draw uses out K levels "
                      "deep, collapse the deeper ones (0: as --collapse)")
    p.add_argument("--cell", type=_cell, metavar="R,C",
                   help="feature_map: highlight output cell R,C (1-based) and the input cells it reads")
    p.set_defaults(func=run)


def _targets(args, files) -> list[tuple[Path, str, str]] | str:
    """[(spec, target, format)] or a usage message."""
    out = args.output
    several = len(files) > 1 or any(Path(s).is_dir() for s in args.specs)
    if out == "-":
        if several:
            return "-o - writes one diagram to stdout; give one spec, or -o DIR for several"
        return [(files[0], "-", args.format or "dot")]
    if several and out is not None and not Path(out).is_dir() and format_for(out) is not None:
        return f"-o {out} names one file, but there are {len(files)} specs: give -o DIR for one diagram per spec"
    folder = out is None or several or Path(out).is_dir() or out.endswith(("/", "\\")) or not Path(out).suffix
    if not folder:
        fmt = format_for(out, args.format)
        if fmt is None:
            return f"cannot tell the format from '{out}': use .svg, .png, .pdf or .dot, or --format"
        return [(files[0], out, fmt)]
    fmt, base, seen, plan = args.format or "svg", Path(out or "."), set(), []
    for f in files:
        stem = f.stem if f.stem not in seen else f"{f.parent.name}-{f.stem}"
        seen.add(stem)
        plan.append((f, str(base / f"{stem}.{fmt}"), fmt))
    return plan


def _options(args, kind: str) -> tuple[dict, list[str]]:
    """(the render options that apply to ``kind``, the flags given that do not)."""
    given = {"values": args.values or None, "grads": args.grads or None, "group": args.group or None,
             "cell": args.cell, "collapse": args.collapse, "depth": args.depth}  # None: not given
    opts = {"layout": args.layout} if args.layout else {}
    ignored = []
    for name, value in given.items():
        if value is None:
            continue
        if name in fact(kind, "render_options", ()):  # archspec/kinds.py: the options each kind's drawer takes
            opts[name] = value
        else:
            ignored.append("--expand" if name == "collapse" and value is False else f"--{name}")
    if opts.get("grads"):
        opts["values"] = True  # dl/dw needs the forward values
    return opts, ignored


def run(args) -> int:
    files = spec_files(args.specs)
    missing = [str(f) for f in files if not f.exists()]
    if missing or not files:
        print(f"archspec render: {'no such file: ' + ', '.join(missing) if missing else 'no .yaml files found'}",
              file=sys.stderr)
        return 2
    plan = _targets(args, files)
    if isinstance(plan, str):
        print(f"archspec render: {plan}", file=sys.stderr)
        return 2

    named = {Path(s) for s in args.specs}  # files asked for by name (not found in a folder)
    status = 0
    for spec_path, target, fmt in plan:
        report = check_file(spec_path)
        spec = report.spec
        if spec is not None and spec_path not in named and capability(spec.kind, "render") is None:
            print(f"archspec render: {spec_path}: skipped (kind '{spec.kind}' has no diagram)", file=sys.stderr)
            continue
        if spec is None or (errors(report.diagnostics) and not fact(spec.kind, "draws_invalid")):
            print(report.text(), file=sys.stderr)
            status = 1
            continue
        if report.diagnostics:
            print(report.text(), file=sys.stderr)
        opts, ignored = _options(args, spec.kind)
        if ignored:
            verb = "does" if len(ignored) == 1 else "do"
            print(f"archspec render: {spec_path}: {', '.join(ignored)} {verb} not apply to kind '{spec.kind}'",
                  file=sys.stderr)
        try:
            graph = render(spec, **opts)
            if target == "-":
                write(graph, target, fmt)
            elif not write_output("render", target, lambda path: write(graph, path, fmt),
                                  " (problems marked in red)" if report.diagnostics else ""):
                status = 1
                continue
        except GraphvizMissing as exc:
            print(f"archspec render: {exc}", file=sys.stderr)
            return 1
        except (RenderError, RenderFailed) as exc:
            print(f"archspec render: {spec_path}: {exc}", file=sys.stderr)
            status = 1
            continue
    return status
