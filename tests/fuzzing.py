"""The fuzzer's parts, shared by tests/test_fuzz.py (hypothesis, in `make test`) and benchmarks/fuzz.py (a long
random run that writes each finding as a minimal reproducer).

A case is YAML text plus the spec file it was derived from (relative rules paths resolve beside it). Mutations
are driven by ``pick(n) -> 0..n-1`` so hypothesis (which shrinks) and a seeded ``random.Random`` (which runs for
minutes) make the same kinds of input. ``exercise`` runs a case through the public API and returns the finding,
or None: the only exceptions allowed out are ``archspec.ArchspecError``; each call must end within ``limit_s``
and grow the process's peak memory by less than 1 GB.
"""
from __future__ import annotations

import re
import resource
import signal
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(p for p in (ROOT / "specs").rglob("*.y*ml") if p.suffix in (".yaml", ".yml"))  # new specs join
MAX_GROWTH_KB = 1024 * 1024  # 1 GB of peak memory per call

HOSTILE = ["99999999999999999999", "-1", "0", ".inf", "-.inf", ".nan", "1e308", "65536", "100000000", "1e-320",
           "-0.0", "2.5", "'8'", "true", "no", "null", "''", "same", "valid", "[1, 2]", "[0, 0]", "[]", "{}",
           "{max: 1e308}", "{min: -.inf}", "{max: 100000}", "{in: [1, .nan]}", '"\\u001b[31mX\\u001b]0;t\\u0007"',
           '"</text><script>x</script>"', '"a\\nb"', '"σ"', '"\\u202e"', '"rules\\0.yaml"', "'../../etc/passwd'",
           "'/dev/zero'", "*a", "&a 1", "!!python/object:os.system", "9" * 400, "1/0", "'1/3'", "2**64"]
CHARS = list(":-[]{},#&*!|>'\"%@` \t\n\\") + ["\x1b", "\u0085", "\u2028", "σ", "0", "9", "x", "e"]
FUNCS = ["sigmoid", "relu", "tanh", "identity", "leaky_relu", "softplus", "exp", "foo", "__import__", "eval", "σ"]
NAMES = ["x1", "x2", "w1", "w2", "w3", "b1", "z1", "a1", "h", "y", "x1.real", "_", "w1__class__"]
OPS = [" + ", " - ", "*", "/", "**", "^", " + -", "@"]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def flip(text, pick):
    i = pick(len(text) + 1)
    return text[:i] + CHARS[pick(len(CHARS))] + text[i + 1:]


def delete_line(text, pick):
    lines = _lines(text)
    del lines[pick(len(lines))]
    return "\n".join(lines)


def repeat_line(text, pick):
    lines = _lines(text)
    i = pick(len(lines))
    return "\n".join(lines[:i] + [lines[i]] * (2 + pick(60)) + lines[i:])


_SCALAR = re.compile(r"(?<=[:\[,] )[^\s,\]\[{}#][^,\]\[{}#\n]*")


def swap_value(text, pick):
    spots = list(_SCALAR.finditer(text))
    if not spots:
        return text
    m = spots[pick(len(spots))]
    return text[:m.start()] + HOSTILE[pick(len(HOSTILE))] + text[m.end():]


def nest(text, pick):
    spots = list(_SCALAR.finditer(text))
    if not spots:
        return text
    m, depth = spots[pick(len(spots))], 1 + pick(70)
    return text[:m.start()] + "[" * depth + m.group() + "]" * depth + text[m.end():]


def repeat_layers(text, pick):
    """The layers (or equations, or rows) list written many times over."""
    lines = _lines(text)
    items = [i for i, line in enumerate(lines) if line.lstrip().startswith("- ")]
    if not items:
        return text
    block = lines[items[0]:items[-1] + 1]
    return "\n".join(lines[:items[0]] + block * (2 + pick(40)) + lines[items[-1] + 1:])


MUTATIONS = (flip, delete_line, repeat_line, swap_value, swap_value, nest, repeat_layers)


def mutate(text: str, pick) -> str:
    for _ in range(1 + pick(4)):
        text = MUTATIONS[pick(len(MUTATIONS))](text, pick)
    return text


def expression(pick, depth: int = 0) -> str:
    """A random right-hand side: mostly well-formed sums of products, sometimes hostile."""
    roll = pick(10)
    if depth > 3 or roll < 3:
        return NAMES[pick(len(NAMES))] if pick(4) else HOSTILE[pick(len(HOSTILE))].strip("'\"")
    if roll < 6:
        return expression(pick, depth + 1) + OPS[pick(len(OPS))] + expression(pick, depth + 1)
    if roll < 9:
        return f"{FUNCS[pick(len(FUNCS))]}({expression(pick, depth + 1)})"
    return "(" * (1 + pick(3)) + expression(pick, depth + 1) + ")" * pick(3)


def equations_case(pick) -> str:
    """An equations spec around generated equation texts, with values for the usual names."""
    rows = [f"{['z1', 'a1', 'h', 'y'][k]} = {expression(pick)}" for k in range(1 + pick(4))]
    eqs = "\n".join(f"  - {r!r}" if pick(2) else f"  - {r}" for r in rows)
    return (f"kind: equations\nname: generated\nequations:\n{eqs}\ninputs: {{x1: 0.5, x2: -1}}\n"
            f"weights: {{w1: 0.2, w2: {HOSTILE[pick(len(HOSTILE))] if not pick(4) else '0.1'}, w3: 1}}\n"
            "biases: {b1: 0.1}\ntargets: {y: 0.7}\nloss: squared_error\nlearning_rate: 0.1\n")


def make_case(pick) -> tuple[str, Path]:
    """(text, the file it stands for): a mutated spec of specs/, or a generated equations spec."""
    if pick(5) == 0:
        return equations_case(pick), ROOT / "specs" / "generated.yaml"
    path = SPECS[pick(len(SPECS))]
    return mutate(path.read_text(errors="replace"), pick), path


# --- running a case -------------------------------------------------------------------------------

class Hang(BaseException):
    """Raised by the timer inside a call that took too long (a BaseException: no handler swallows it)."""


@dataclass
class Finding:
    call: str
    kind: str  # exception | hang | memory
    detail: str

    def signature(self) -> tuple:
        last = [line for line in self.detail.strip().splitlines() if line.strip()][-1:] or [""]
        return (self.call, self.kind, last[0].split(":")[0])


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _call(name: str, fn, limit_s: float):
    """(result, None) or (None, Finding); ArchspecError is an allowed outcome (result None)."""
    from archspec import ArchspecError

    armed = [True]

    def ring(*_):
        if armed[0]:  # an alarm that fires while the call returns is not a hang
            raise Hang()

    before = _peak_kb()
    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        return fn(), None
    except ArchspecError:
        return None, None
    except Hang:
        return None, Finding(name, "hang", f"still running after {limit_s} s")
    except Exception:  # noqa: BLE001 - any other exception is what the fuzzer looks for
        return None, Finding(name, "exception", traceback.format_exc(limit=-3))
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if _peak_kb() - before > MAX_GROWTH_KB:
            raise MemoryGrowth(name, _peak_kb() - before)


class MemoryGrowth(Exception):
    def __init__(self, call, kb):
        super().__init__(f"{call} grew peak memory by {kb / 1024:,.0f} MB")
        self.call = call


def exercise(text: str, file: Path, limit_s: float = 5.0) -> Finding | None:
    """Every public entry point a spec text reaches; the first finding, or None."""
    try:
        return _exercise(text, str(file), limit_s)
    except MemoryGrowth as exc:
        return Finding(exc.call, "memory", str(exc))


def _exercise(text: str, file: str, limit_s: float) -> Finding | None:
    import archspec
    from archspec.design.problem import from_document
    from archspec.design import count, top
    from archspec.design.repair import report_suggestions
    from archspec.kinds import capability
    from archspec.loader import load_text

    report, found = _call("check_text", lambda: archspec.check_text(text, file), limit_s)
    if found or report is None:
        return found
    for d in report.diagnostics:
        if not (d.line >= 1 and d.column >= 1 and d.code and d.message):
            return Finding("check_text", "exception", f"diagnostic without a place: {d}")
    calls = [("suggest", lambda: report_suggestions(report))]
    spec = report.spec if report.valid else None
    if spec is not None:
        kind = spec.kind
        explain = capability(kind, "explain")
        calls += [(f"explain {fmt}", lambda fmt=fmt: explain(spec, format=fmt, steps=1, activation=None))
                  for fmt in ("markdown", "latex", "json", "text")] if explain else []
        if kind == "cnn":
            calls.append(("shapes", lambda: archspec.shapes(spec)))
        if capability(kind, "render"):
            calls.append(("render source", lambda: archspec.render(spec).source))
        if capability(kind, "answers") and getattr(spec, "answers", None) is not None:
            calls.append(("check answers", lambda: capability(kind, "answers")(spec, 1e-3)))
    if report.spec is not None and report.spec.kind in ("cnn", "rules") and "constraints" in text:
        def design():
            problem = from_document(load_text(text, file))
            return count(problem.space), top(problem.space, 3, "params")
        calls.append(("design count/top", design))
    for name, fn in calls:
        _, found = _call(name, fn, limit_s)
        if found:
            return found
    return None


def minimal(text: str, file: Path, finding: Finding, limit_s: float = 5.0, budget_s: float = 60.0) -> str:
    """``text`` with every line whose removal keeps the same finding removed (greedy, a few passes, for at most
    ``budget_s`` seconds)."""
    import time

    end = time.monotonic() + budget_s
    lines = _lines(text)
    for _ in range(3):
        shrunk = False
        for i in reversed(range(len(lines))):
            if time.monotonic() > end:
                return "\n".join(lines)
            trial = lines[:i] + lines[i + 1:]
            got = exercise("\n".join(trial), file, limit_s)
            if got is not None and got.signature() == finding.signature():
                lines, shrunk = trial, True
        if not shrunk:
            break
    return "\n".join(lines)
