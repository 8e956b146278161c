"""archspec schema: the JSON Schema of the spec format, for editors."""
from __future__ import annotations

import json
from pathlib import Path

from . import write_output


def register(sub):
    p = sub.add_parser("schema", help="print the JSON Schema of spec files")
    p.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of stdout")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..schema import json_schema  # start-up: the CLI registers every command, the command's work loads on use

    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if args.output:
        return 0 if write_output("schema", args.output, lambda path: Path(path).write_text(text)) else 1
    else:
        print(text, end="")
    return 0
