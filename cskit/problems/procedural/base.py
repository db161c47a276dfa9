"""What every procedural family is made of: the :class:`Family` record and the random helpers its samplers and
input generators share (integers, words, sentences, lists with their edge cases).

A family is one *task* with parameters (a threshold, a character, a divisor ...) that change its behaviour.
Its reference is a plain Python function ``fn(*args)`` (source text, parameters baked in as constants);
``cskit.problems.procedural`` turns it into stdio / call / assert problems. Argument types:
``int``, ``str`` (one line of text, may be empty), ``ints`` (a list of integers, possibly empty).
Return types: ``int``, ``str``, ``bool``, ``ints``.

``level`` is ``"standard"`` (a loop or a few conditions: text, lists, numbers) or ``"basic"`` (one expression
with a parameter, ``cskit.problems.procedural.basic``: the level a 135M-parameter policy sometimes solves, so
that CPU-scale runs get problems with mixed outcomes).

``gen(rng, p)`` returns a list of argument tuples: the family's edge cases first (empty, boundaries,
negatives, large values, the parameter's own boundary), then random ones. Every tuple is inside the
stated constraints (the reference never raises on them).
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from textwrap import dedent
from typing import Callable

Args = tuple
BIG = 10 ** 9


@dataclass(frozen=True)
class Family:
    name: str
    fn: str
    args: tuple[tuple[str, str], ...]           # (name, type)
    ret: str                                    # int | str | bool | ints
    sample: Callable[[random.Random], dict]     # parameters (JSON-able)
    what: Callable[[dict], str]                 # "the number of ..." / for bool: a condition
    code: Callable[[dict], str]                 # the reference function (source)
    gen: Callable[[random.Random, dict], list[Args]]
    constraints: Callable[[dict], str] = lambda p: ""
    split: str = "train"
    twin_of: tuple[str, ...] = ()               # bundled tasks this family resembles (must share the split)
    extra: dict = field(default_factory=dict)
    level: str = "standard"                     # "basic": one step, within reach of a 135M model (basic.py)


def src(s: str) -> str:
    return dedent(s).strip("\n") + "\n"


# ----------------------------------------------------------------------------- random helpers
def ints(rng, n, lo=-20, hi=20):
    return [rng.randint(lo, hi) for _ in range(n)]


def word(rng, n, alphabet=string.ascii_lowercase):
    return "".join(rng.choice(alphabet) for _ in range(n))


def sentence(rng, nwords, alphabet=string.ascii_lowercase, maxlen=7):
    return " ".join(word(rng, rng.randint(1, maxlen), alphabet) for _ in range(nwords))


def list_edges(rng, lo=-20, hi=20, min_len=0):
    """Edge-case lists: empty, single, all equal, negatives, large values, sorted, reversed."""
    out = [[], [rng.randint(lo, hi)], [7, 7, 7], [-5, -1, -9, -3], [BIG, -BIG, BIG - 1, 3],
           list(range(1, 8)), list(range(8, 0, -1)), [0, 0, 1, 0]]
    return [x for x in out if len(x) >= min_len]


def rand_lists(rng, k, lo=-20, hi=20, min_len=0, max_len=12):
    return [ints(rng, rng.randint(min_len, max_len), lo, hi) for _ in range(k)]


def one(xs):
    return [(x,) for x in xs]


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def mixed_text(rng, k, c=None, alphabet="abcde XYZ"):
    out = []
    for _ in range(k):
        s = word(rng, rng.randint(0, 14), alphabet + (c or "") * 3)
        out.append(s)
    return out


def ordinal(k):
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


# ============================================================================= string families
