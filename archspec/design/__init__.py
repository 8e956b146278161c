"""Design search over a rule set: the space, its exact size, the best designs, repairs.

>>> from archspec.design import load_problem, count, top
>>> problem = load_problem("specs/seed/q6-design.yaml")
>>> count(problem.space).count          # every design that meets the Q6 rules
>>> top(problem.space, 5, "params")     # the five with the fewest parameters

Pure Python: nothing here imports torch.
"""
from __future__ import annotations

from .count import CountResult, count
from .problem import Problem, load_problem
from .repair import Suggestion, suggest
from ..cnn.search import SearchConfig
from .moves import Space
from .space import build_space
from .top import Design, top

__all__ = ["CountResult", "Design", "Problem", "SearchConfig", "Space", "Suggestion", "build_space", "count",
           "load_problem", "suggest", "top"]
