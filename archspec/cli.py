"""The ``archspec`` command: argparse over the library, one module per subcommand.

Each module in ``COMMANDS`` has ``register(subparsers)`` which adds its parser
and sets ``func``; a command returns the exit status (0 ok, 1 invalid input,
2 usage). Heavy imports (torch, graphviz) happen inside the command functions.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .diagnostics import SpecError

COMMANDS = ("validate", "shapes", "explain", "check", "render", "design", "compile", "train", "evaluate", "predict",
            "schema")


def parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="archspec", description="Everything about a neural network from one YAML spec.",
                                epilog="'archspec COMMAND --help' tells more about a command.")
    p.add_argument("--version", action="version", version=f"archspec {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"archspec.commands.{name}").register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
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
    except KeyboardInterrupt:
        print("archspec: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


class MissingExtra(Exception):
    """A feature's optional dependency is not installed."""


def need(module: str, extra: str = "train"):
    """Import an optional dependency or say in one line how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"this command needs '{module}': pip install 'archspec-nn[{extra}]'") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
