"""The ``archspec`` command: argparse over the library, one module per subcommand.

Each module in ``COMMANDS`` has ``register(subparsers)`` which adds its parser
and sets ``func``; a command returns the exit status (0 ok, 1 invalid input,
2 usage). Heavy imports (torch, graphviz) happen inside the command functions.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import warnings

from . import __version__
from .diagnostics import ArchspecError, SpecError
from .extras import TRAIN_EXTRA, MissingExtra, missing, need  # noqa: F401 (need, MissingExtra: also from here)
from .terminal import escaping, last_resort, show_warning

COMMANDS = ("validate", "shapes", "explain", "check", "render", "design", "compile", "train", "evaluate", "predict",
            "schema", "serve")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="archspec", description="Everything about a neural network from one YAML spec.",
                                epilog="'archspec COMMAND --help' tells more about a command.")
    p.add_argument("--version", action="version", version=f"archspec {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"archspec.commands.{name}").register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 locale prints sigma as \u03c3 instead of failing
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = escaping(out), escaping(err)  # no user text drives the terminal (archspec.terminal)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning  # archspec's notes as 'archspec: note: ...'
            return _main(argv)
    except Exception as exc:  # a bug: one line and a saved report (ARCHSPEC_TRACEBACK=1 shows the traceback)
        if os.environ.get("ARCHSPEC_TRACEBACK"):
            raise
        return last_resort(next(iter(argv if argv is not None else sys.argv[1:]), None), exc)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str] | None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.command is None:  # a bare 'archspec': the commands, not just 'COMMAND is required'
        p.print_help(sys.stderr)
        return 2
    try:
        return args.func(args) or 0
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except MissingExtra as exc:
        print(f"archspec: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in TRAIN_EXTRA:
            raise
        print(f"archspec: {missing(exc.name.split('.')[0])}", file=sys.stderr)
        return 2
    except ArchspecError as exc:  # one the command did not catch itself, e.g. a run folder file it cannot write
        print(f"archspec {args.command}: {exc}", file=sys.stderr)
        return 1
    except PermissionError as exc:
        if exc.filename is None:
            raise
        print(f"archspec {args.command}: {exc.filename}: {exc.strerror}", file=sys.stderr)  # e.g. a folder chmod 000
        return 1
    except BrokenPipeError:  # 'archspec ... | head': the reader has all it wanted (an OSError: caught first)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # exit's flush of the rest would fail again
        return 0
    except OSError as exc:
        if exc.filename is not None or exc.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT):
            raise
        print(f"archspec {args.command}: cannot write the output: {exc.strerror}", file=sys.stderr)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # exit's flush of the rest would fail again
        return 1
    except KeyboardInterrupt:
        print("archspec: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
