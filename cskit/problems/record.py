"""The ``Problem`` record: one coding problem with its tests, whatever benchmark it came from.

Three kinds of tests, one field layout (``TestCase(input, output)``):

* ``stdio``  -- ``input`` is the program's stdin, ``output`` the expected stdout
  (compared LiveCodeBench-style by the sandbox).
* ``call``   -- ``input`` holds one JSON value per line, the positional arguments of
  ``entry_point`` (a function, or a method of ``class Solution`` when the starter code has one);
  ``output`` is the JSON of the expected return value (LiveCodeBench ``fn_name`` style).
* ``assert`` -- ``input`` is a test program run after ``setup_code`` + the candidate code
  (an MBPP ``assert`` line, or HumanEval's ``check`` function followed by ``check(entry_point)``);
  it passes when that program exits cleanly. ``output`` is unused ("").
* ``none``   -- a statement without tests (synthetic sets such as KodCode/QueST, or problems whose
  tests are hidden from training). Execution rewards refuse these; the reward model does not need tests.

This module does not run code. Loaders for public formats build on this record
(see ``cskit.problems.sources`` when present).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

KINDS = ("stdio", "call", "assert", "none")


class ProblemFormatError(ValueError):
    """Malformed problem data; the message names the file, line and field."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        if field is not None:
            message = f"field '{field}': {message}"
        super().__init__(where + message)
        self.path, self.line, self.field = path, line, field


@dataclass(frozen=True)
class TestCase:
    input: str
    output: str = ""

    __test__ = False  # keep pytest from collecting this class


@dataclass
class Problem:
    id: str
    statement: str
    kind: str = "stdio"
    tests: list[TestCase] = field(default_factory=list)
    source: str = "custom"
    entry_point: str = ""
    starter_code: str = ""
    setup_code: str = ""
    solutions: list[str] = field(default_factory=list)
    wrong_solutions: list[str] = field(default_factory=list)
    split: str = "train"
    time_limit: float = 2.0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ProblemFormatError(f"unknown test kind {self.kind!r}; expected one of {KINDS}", field="kind")
        self.tests = [t if isinstance(t, TestCase) else TestCase(**t) for t in self.tests]
        if self.kind == "call" and not self.entry_point:
            raise ProblemFormatError(f"problem {self.id!r}: call-based tests need an entry_point", field="entry_point")
        if self.kind != "none" and not self.tests:
            raise ProblemFormatError(f"problem {self.id!r}: kind {self.kind!r} needs at least one test "
                                     "(use kind 'none' for a statement without tests)", field="tests")

    @property
    def has_tests(self) -> bool:
        return self.kind != "none" and bool(self.tests)

    @property
    def task(self) -> str:
        """The task this problem poses, shared by its twins in other formats (``metadata['task']``, else the
        procedural ``family``, else the id): held-out splits keep a task's problems on one side."""
        return str(self.metadata.get("task") or self.metadata.get("family") or self.id)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tests"] = [asdict(t) for t in self.tests]
        return d

    def without_tests(self) -> "Problem":
        """The same statement with its tests hidden (kind 'none'); keeps the id and provenance."""
        meta = dict(self.metadata, tests_hidden=True, original_kind=self.kind)
        return Problem(id=self.id, statement=self.statement, kind="none", tests=[], source=self.source,
                       entry_point=self.entry_point, starter_code=self.starter_code, solutions=list(self.solutions),
                       split=self.split, time_limit=self.time_limit, metadata=meta)


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,), "statement": (str,), "kind": (str,), "tests": (list,), "source": (str,),
    "entry_point": (str,), "starter_code": (str,), "setup_code": (str,), "solutions": (list,),
    "wrong_solutions": (list,), "split": (str,), "time_limit": (int, float), "metadata": (dict,),
}
_REQUIRED = ("id", "statement")


def problem_from_dict(d: Any, *, path: str | None = None, line: int | None = None) -> Problem:
    """Validate one cskit-format record; errors name file, line and field.

    A row with neither ``kind`` nor ``tests`` is a statement-only problem (kind ``none``)."""
    if not isinstance(d, dict):
        raise ProblemFormatError(f"expected a JSON object, got {type(d).__name__}", path=path, line=line)
    for k in _REQUIRED:
        if k not in d:
            raise ProblemFormatError("missing required field", path=path, line=line, field=k)
    unknown = sorted(set(d) - set(_FIELD_TYPES))
    if unknown:
        raise ProblemFormatError(f"unknown field(s) {unknown}; expected a subset of {sorted(_FIELD_TYPES)}",
                                 path=path, line=line, field=unknown[0])
    for k, v in d.items():
        types = _FIELD_TYPES[k]
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            want = " or ".join(t.__name__ for t in types)
            raise ProblemFormatError(f"expected {want}, got {type(v).__name__}", path=path, line=line, field=k)
    tests = []
    for i, t in enumerate(d.get("tests", [])):
        if not isinstance(t, dict) or "input" not in t:
            raise ProblemFormatError("each test must be an object with 'input' (and 'output')",
                                     path=path, line=line, field=f"tests[{i}]")
        for sub in ("input", "output"):
            if sub in t and not isinstance(t[sub], str):
                raise ProblemFormatError(f"expected str, got {type(t[sub]).__name__}", path=path, line=line,
                                         field=f"tests[{i}].{sub}")
        extra = set(t) - {"input", "output"}
        if extra:
            raise ProblemFormatError(f"unknown key(s) {sorted(extra)}", path=path, line=line, field=f"tests[{i}]")
        tests.append(TestCase(t["input"], t.get("output", "")))
    for k in ("solutions", "wrong_solutions"):
        for i, s in enumerate(d.get(k, [])):
            if not isinstance(s, str):
                raise ProblemFormatError(f"expected str, got {type(s).__name__}", path=path, line=line,
                                         field=f"{k}[{i}]")
    if "kind" not in d and not tests:  # a statement-only row (synthetic sets): no kind, no tests
        d = {**d, "kind": "none"}
    try:
        return Problem(**{**d, "tests": tests})
    except ProblemFormatError as e:
        raise ProblemFormatError(str(e).split(": ", 1)[-1] if e.field else str(e), path=path, line=line,
                                 field=e.field) from None


def load_problems_jsonl(path: str | Path) -> list[Problem]:
    """Read cskit's own JSONL format (one ``Problem.to_dict()`` per line)."""
    from cskit.io import JsonlError, iter_jsonl

    path = Path(path)
    problems, seen = [], {}
    try:
        for lineno, d in iter_jsonl(path, objects=False):
            p = problem_from_dict(d, path=str(path), line=lineno)
            if p.id in seen:
                raise ProblemFormatError(f"duplicate id {p.id!r} (first on line {seen[p.id]})", path=str(path),
                                         line=lineno, field="id")
            seen[p.id] = lineno
            problems.append(p)
    except JsonlError as e:
        raise ProblemFormatError(e.reason, path=e.path, line=e.line) from None
    return problems


def save_problems_jsonl(path: str | Path, problems: Iterable[Problem]) -> Path:
    from cskit.io import write_jsonl

    return write_jsonl(path, (p.to_dict() for p in problems))
