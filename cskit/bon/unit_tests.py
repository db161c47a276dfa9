"""Policy-written unit tests for Best-of-N selection (the CURE-style baseline, majority vote).

CURE (``Gen-Verse/CURE:optimization/sample.py``) samples ``k_case`` responses per problem, each asked for
ONE test written as ``**Test Input:** ```...``` **Test Output:** ```...```**``, and keeps the last
input/output blocks of each response. We do the same with ``M = cfg.bon_num_tests`` samples, in a format
suited to the problem's kind:

* ``stdio``  -- input block = the program's stdin, output block = the expected stdout;
* ``call``   -- input block = the positional arguments, one JSON value per line; output block = the JSON
  of the return value (Python literals such as ``True``/``None``/tuples are accepted and re-encoded);
* ``assert`` -- one fenced ``python`` block with an ``assert`` statement that calls ``entry_point``.

The answer is pre-filled with the start of that format (:func:`unit_test_prefix`), a standard trick that keeps
small policies on format; the parsed text is ``prefix + continuation``.

Parsing is defensive: a response that does not yield a well-formed test is *dropped* and counted, with a
reason (``no_input``, ``no_output``, ``bad_json``, ``no_assert``, ``no_entry_point``, ``too_long``, ...).

Everything that runs model-written code (candidates against generated tests, candidates on generated
inputs for voting) goes through :mod:`cskit.sandbox`: :func:`pass_matrix` grades each candidate with a
``Problem`` whose tests are the generated ones, :func:`vote_signatures` calls ``sandbox.execute`` once per
(candidate, input). Both return per-candidate sandbox wall times so that the caller can account latency.

No torch import here.
"""
from __future__ import annotations

import ast
import json
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from cskit.problems import Problem, TestCase

MAX_TEST_CHARS = 20_000  # a generated input/output longer than this is dropped (``too_long``)

DROP_REASONS = ("no_input", "no_output", "empty", "bad_json", "no_assert", "no_entry_point", "syntax",
                "too_long", "unsupported_kind")

_FMT_IO = """**Test Input:**
```
{input_hint}
```
**Test Output:**
```
{output_hint}
```"""


def unit_test_prompt(problem: Problem) -> str:
    """The user turn asking the policy for ONE new unit test of ``problem`` (format depends on its kind)."""
    parts = ["You are given a programming problem. Do NOT solve it. Write ONE new, correct test case for it.",
             "", "### Problem", problem.statement.strip()]
    if problem.starter_code.strip():
        parts += ["", "### Starter code", "```python", problem.starter_code.rstrip(), "```"]
    if problem.kind == "stdio":
        parts += ["", "The program reads standard input and writes standard output. Give the complete standard "
                  "input and the exact expected standard output, in exactly this format:", "",
                  _FMT_IO.format(input_hint="<the standard input>", output_hint="<the expected standard output>")]
    elif problem.kind == "call":
        parts += ["", f"The solution is the function `{problem.entry_point}`. Give its arguments, one JSON value "
                  "per line in parameter order, and the JSON of the expected return value, in exactly this "
                  "format:", "",
                  _FMT_IO.format(input_hint="<argument 1 as JSON>\n<argument 2 as JSON>",
                                 output_hint="<the return value as JSON>")]
    else:  # assert (and anything else: ask for an assert)
        ep = problem.entry_point or "the function"
        parts += ["", f"Write the test as a single Python assert statement that calls `{ep}` and compares the result "
                  "with the expected value, in one fenced block:", "", "```python",
                  f"assert {problem.entry_point or 'f'}(...) == ...", "```"]
    return "\n".join(parts)


def unit_test_prefix(problem: Problem) -> str:
    """The start of the answer, pre-filled after the generation prompt so that even small policies keep the
    format (``**Test Input:**`` + an opening fence; ``assert <entry_point>(`` in a python fence). The model
    continues it; parse ``prefix + continuation``."""
    if problem.kind in ("stdio", "call"):
        return "**Test Input:**\n```\n"
    if problem.entry_point:
        return f"```python\nassert {problem.entry_point}("
    return "```python\nassert "


def render_unit_test_prompt(tokenizer, problem: Problem) -> str:
    """``unit_test_prompt`` through the tokenizer's chat template (generation prompt added), followed by
    :func:`unit_test_prefix`, as text."""
    messages = [{"role": "user", "content": unit_test_prompt(problem)}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text + unit_test_prefix(problem)


# --- parsing --------------------------------------------------------------------------------------------

_LABEL = r"(?:\*\*|__)?\s*(?:Test\s+)?{what}\s*:?\s*(?:\*\*|__)?\s*:?"
_BLOCK = r"\s*```[\w+-]*[ \t]*\n?(.*?)```"
_RE_IN = re.compile(_LABEL.format(what="Input") + _BLOCK, re.DOTALL | re.IGNORECASE)
_RE_OUT = re.compile(_LABEL.format(what="(?:Expected\\s+)?Output") + _BLOCK, re.DOTALL | re.IGNORECASE)
_RE_FENCE = re.compile(r"```[\w+-]*[ \t]*\n(.*?)```", re.DOTALL)
# CURE's fallback without fences: "Test Input: ... Test Output: ..." up to a blank line / explanation / end
_RE_PLAIN = re.compile(_LABEL.format(what="Input") + r"[ \t]*\n?(.+?)\s*"
                       + _LABEL.format(what="(?:Expected\\s+)?Output")
                       + r"[ \t]*\n?(.+?)(?=\n[ \t]*\n|\*\*Explanation|```|$)", re.DOTALL | re.IGNORECASE)


def _clean_block(block: str) -> str:
    """CURE's ``modify``: literal ``\\n`` in a one-line block becomes a newline; one trailing newline."""
    s = block.strip("\n")
    if "\n" not in s and "\\n" in s:
        s = s.replace("\\n", "\n")
    s = "\n".join(line.rstrip() for line in s.split("\n")).strip("\n")
    return s + "\n" if s else ""


def _to_json(text: str) -> str | None:
    """A JSON or Python-literal value as canonical JSON, else None."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.dumps(json.loads(text))
    except (ValueError, RecursionError):
        pass
    try:
        v = ast.literal_eval(text)
        if isinstance(v, tuple):
            v = list(v)
        return json.dumps(v)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _parse_io(text: str, kind: str) -> tuple[TestCase | None, str]:
    ins, outs = _RE_IN.findall(text), _RE_OUT.findall(text)
    if not ins and not outs:
        plain = _RE_PLAIN.findall(text)
        ins, outs = [x[0] for x in plain], [x[1] for x in plain]
    if not ins:
        return None, "no_input"
    if not outs:
        return None, "no_output"
    raw_in, raw_out = ins[-1], outs[-1]  # CURE keeps the last occurrence
    if len(raw_in) > MAX_TEST_CHARS or len(raw_out) > MAX_TEST_CHARS:
        return None, "too_long"
    if kind == "stdio":
        tin, tout = _clean_block(raw_in), _clean_block(raw_out)
        if not tin.strip() or not tout.strip():
            return None, "empty"
        return TestCase(tin, tout), "ok"
    # call: one JSON value per line; fall back to the whole block being one value
    lines = [ln for ln in raw_in.strip().split("\n") if ln.strip()]
    if not lines:
        return None, "empty"
    args = [_to_json(ln) for ln in lines]
    if any(a is None for a in args):
        whole = _to_json(raw_in)
        if whole is None:
            return None, "bad_json"
        args = [whole]
    out = _to_json(raw_out)
    if out is None:
        return None, "bad_json" if raw_out.strip() else "empty"
    return TestCase("\n".join(args) + "\n", out), "ok"


def _calls_name(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Call) and ((isinstance(n.func, ast.Name) and n.func.id == name)
                                            or (isinstance(n.func, ast.Attribute) and n.func.attr == name))
               for n in ast.walk(node))


def _parse_assert(text: str, entry_point: str) -> tuple[TestCase | None, str]:
    blocks = _RE_FENCE.findall(text) or [text]
    candidates: list[str] = []
    for block in blocks:
        try:
            tree = ast.parse(block)
            candidates += [ast.get_source_segment(block, n) or "" for n in tree.body if isinstance(n, ast.Assert)]
        except (SyntaxError, ValueError, RecursionError):
            candidates += [ln.strip() for ln in block.split("\n") if ln.strip().startswith("assert")]
    if not candidates:
        return None, "no_assert"
    reason = "syntax"
    for src in candidates:
        if len(src) > MAX_TEST_CHARS:
            reason = "too_long"
            continue
        try:
            node = ast.parse(src).body[0]
        except (SyntaxError, ValueError, IndexError, RecursionError):
            continue
        if not isinstance(node, ast.Assert):
            continue
        if entry_point and not _calls_name(node, entry_point):
            reason = "no_entry_point"
            continue
        return TestCase(src + "\n", ""), "ok"
    return None, reason


def parse_generated_test(text: str, problem: Problem) -> tuple[TestCase | None, str]:
    """One test from one policy response: ``(TestCase, "ok")`` or ``(None, drop_reason)``."""
    if not isinstance(text, str) or not text.strip():
        return None, "empty"
    if problem.kind in ("stdio", "call"):
        return _parse_io(text, problem.kind)
    if problem.kind == "assert":
        return _parse_assert(text, problem.entry_point)
    return None, "unsupported_kind"


@dataclass
class GeneratedTests:
    """The tests parsed from ``n_samples`` policy responses for one problem."""

    problem_id: str
    tests: list[TestCase] = field(default_factory=list)
    n_samples: int = 0
    drop_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def n_dropped(self) -> int:
        return int(sum(self.drop_reasons.values()))


def parse_generated_tests(responses: Sequence[str], problem: Problem, max_tests: int = 0) -> GeneratedTests:
    """Parse one test per response (garbage dropped and counted by reason); keep at most ``max_tests``."""
    out = GeneratedTests(problem.id, n_samples=len(responses))
    reasons: Counter = Counter()
    for r in responses:
        test, why = parse_generated_test(r, problem)
        if test is None:
            reasons[why] += 1
        elif max_tests and len(out.tests) >= max_tests:
            reasons["over_cap"] += 1
        else:
            out.tests.append(test)
    out.drop_reasons = dict(reasons)
    return out


def generated_problem(problem: Problem, tests: Sequence[TestCase]) -> Problem | None:
    """``problem`` with its tests replaced by the generated ones (None when there are none)."""
    if not tests or problem.kind not in ("stdio", "call", "assert"):
        return None
    return replace(problem, id=f"{problem.id}#gen", tests=list(tests), solutions=[], wrong_solutions=[],
                   metadata=dict(problem.metadata, generated_tests=True))


def vote_inputs(problem: Problem, tests: Sequence[TestCase], k: int) -> list[str]:
    """Up to ``k`` distinct inputs from the generated tests, in order, as ``sandbox.execute`` takes them.

    For ``assert`` problems the input is a program printing ``repr`` of the asserted call, e.g.
    ``assert f(3) == 9`` -> ``print(repr(f(3)))``; asserts without a call on the left are skipped.
    """
    out: list[str] = []
    for t in tests:
        if len(out) >= k:
            break
        if problem.kind == "assert":
            try:
                node = ast.parse(t.input).body[0]
            except (SyntaxError, IndexError, ValueError):
                continue
            test = node.test if isinstance(node, ast.Assert) else None
            expr = test.left if isinstance(test, ast.Compare) else test
            if expr is None or (problem.entry_point and not _calls_name(expr, problem.entry_point)):
                continue
            inp = f"print(repr({ast.unparse(expr)}))\n"
        else:
            inp = t.input
        if inp not in out:
            out.append(inp)
    return out


# --- execution through the sandbox -------------------------------------------------------------------------

def pass_matrix(problem: Problem, codes: Sequence[str], tests: Sequence[TestCase], *, limits=None,
                workers: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Run every candidate against every generated test in the sandbox.

    Returns ``(passes[N, M] bool, seconds[N])``: ``seconds`` is each candidate's sandbox time (its
    GradeResult ``time_s``; the serial cost). Candidates without code pass nothing and cost 0.
    """
    n, m = len(codes), len(tests)
    passes = np.zeros((n, m), dtype=bool)
    secs = np.zeros(n, dtype=float)
    gp = generated_problem(problem, tests)
    if gp is None or n == 0:
        return passes, secs
    from cskit.sandbox import grade_many

    idx = [i for i, c in enumerate(codes) if c and c.strip()]
    results = grade_many([(gp, codes[i]) for i in idx], limits=limits, workers=workers, progress=False)
    for i, r in zip(idx, results):
        verdicts = [t.verdict == "passed" for t in r.tests][:m]
        passes[i, :len(verdicts)] = verdicts
        secs[i] = float(r.time_s or 0.0)
    return passes, secs


def _signature_item(res) -> str:
    if res.verdict in ("ok", "passed", "success"):
        return "\n".join(line.rstrip() for line in (res.output or "").strip().split("\n"))
    return f"<{res.verdict}>"


def vote_signatures(problem: Problem, codes: Sequence[str], inputs: Sequence[str], *, limits=None,
                    workers: int = 0) -> tuple[list[tuple[str, ...] | None], np.ndarray]:
    """Each candidate's behaviour on ``inputs``: a tuple of normalised outputs (errors as ``<verdict>``).

    Candidates without code get ``None`` (they never join a cluster). Returns ``(signatures, seconds[N])``
    where ``seconds`` is each candidate's summed ``execute`` wall time (the serial cost).
    """
    from cskit.sandbox import execute

    sigs: list[tuple[str, ...] | None] = [None if not (c and c.strip()) else () for c in codes]
    secs = np.zeros(len(codes), dtype=float)
    jobs = [(i, j) for i, c in enumerate(codes) if c and c.strip() for j in range(len(inputs))]
    if not jobs:
        return sigs, secs

    def one(job):
        i, j = job
        t0 = time.perf_counter()
        res = execute(problem, codes[i], inputs[j], limits=limits)
        return i, j, _signature_item(res), time.perf_counter() - t0

    import os

    nw = workers if workers and workers > 0 else (os.cpu_count() or 1)
    if nw <= 1:
        results = [one(j) for j in jobs]
    else:
        with ThreadPoolExecutor(max_workers=nw) as ex:  # each execute is a sandboxed subprocess
            results = list(ex.map(one, jobs))
    items: dict[int, list[str]] = {}
    for i, j, item, dt in results:
        items.setdefault(i, [""] * len(inputs))[j] = item
        secs[i] += dt
    for i, vals in items.items():
        sigs[i] = tuple(vals)
    return sigs, secs
