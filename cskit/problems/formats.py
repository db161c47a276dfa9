"""Row converters: one row of a public benchmark (a dict) -> a cskit ``Problem``.

Each ``*_problem(row, where, ...)`` function validates one row and raises ``ProblemFormatError``
naming the file, line (or record number) and field when it is malformed. Reading files and the hub is
``cskit.problems.sources``'s job; nothing here touches the network or runs code (test programs are only
parsed with ``ast``).

Formats (field names as in the public releases):

* HumanEval  ``task_id, prompt, entry_point, canonical_solution, test`` -> ``assert`` (one test:
  ``test + "\\ncheck(<entry_point>)\\n"``).
* MBPP       ``task_id, text|prompt, code, test_list, test_setup_code|test_imports, challenge_test_list``
  -> ``assert``, one test per assert line.
* LiveCodeBench ``code_generation_lite`` ``question_id, question_content, starter_code, public_test_cases,
  private_test_cases, metadata{func_name}`` -> ``stdio`` or ``call``.
* DeepCoder-Preview ``problem, tests, starter_code?, metadata?`` where ``tests`` is LCB-style (lcbv5),
  TACO-style ``{inputs, outputs, fn_name?}`` (taco) or ``[{type, input, output, fn_name?}]``
  (primeintellect, codeforces).
* CURE / Gen-Verse ``question, test_input, test_output, example_input?, example_output?, id?`` -> ``stdio``.
* KodCode-V1 ``question_id, question, solution, test (pytest), test_info`` -> ``none`` (default) or
  ``assert`` built from its synthetic pytest functions.
* QueST-style statement-only rows -> ``none``.
"""
from __future__ import annotations

import ast
import base64
import binascii
import builtins
import io
import json
import pickle
import re
import zlib
from dataclasses import dataclass
from typing import Any, Iterable

from cskit.problems.record import Problem, ProblemFormatError, TestCase


@dataclass(frozen=True)
class Where:
    """Where a row came from, for error messages (``line`` is the JSONL line or the 1-based record)."""

    path: str
    line: int | None = None

    def err(self, message: str, field: str | None = None) -> ProblemFormatError:
        return ProblemFormatError(message, path=self.path, line=self.line, field=field)


_MISSING = object()


def _tname(types: tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in types)


def get_field(row: dict, name: str, where: Where, types: tuple[type, ...] = (str,), default: Any = _MISSING) -> Any:
    """``row[name]`` checked against ``types``; missing/None -> ``default`` or an error."""
    if name not in row or row[name] is None:
        if default is _MISSING:
            raise where.err("missing required field", name)
        return default
    v = row[name]
    if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
        raise where.err(f"expected {_tname(types)}, got {type(v).__name__}", name)
    return v


def first_field(row: dict, names: Iterable[str], where: Where, types: tuple[type, ...] = (str,),
                required: bool = True) -> tuple[str | None, Any]:
    """The first of ``names`` present and non-empty in ``row`` -> (name, value)."""
    names = tuple(names)
    for n in names:
        if row.get(n) not in (None, ""):
            return n, get_field(row, n, where, types)
    if required:
        raise where.err(f"missing required field (any of {list(names)})", names[0])
    return None, None


def json_value(v: Any, where: Where, field: str, empty: Any = _MISSING) -> Any:
    """A JSON-encoded string (decoded here) or an already-decoded value (returned as is)."""
    if isinstance(v, (bytes, bytearray)):
        v = v.decode("utf-8", errors="replace")
    if isinstance(v, str):
        if not v.strip() and empty is not _MISSING:
            return empty
        try:
            return json.loads(v)
        except json.JSONDecodeError as e:
            raise where.err(f"invalid JSON ({e.msg} at column {e.colno})", field) from None
    return v


def _metadata(row: dict, where: Where, name: str = "metadata") -> dict:
    m = json_value(row.get(name) or {}, where, name, empty={})
    if not isinstance(m, dict):
        raise where.err(f"expected a JSON object, got {type(m).__name__}", name)
    return m


def _text(v: Any) -> str:
    """A stdin/stdout test value as text (lists of lines are joined; numbers printed)."""
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return "\n".join(_text(x) for x in v)
    return str(v)


# --------------------------------------------------------------------------- call-based encoding
def args_to_input(args: Any) -> str:
    """Positional arguments -> cskit/LCB call input (one JSON value per line)."""
    if not isinstance(args, (list, tuple)):
        args = [args]
    return "\n".join(json.dumps(a) for a in args)


def _unwrap_taco(out: Any) -> Any:
    # TACO/APPS (and PrimeIntellect, converted to the same layout) store a call's expected return value
    # wrapped in a one-element list; their runner accepts ``out == expected or out == expected[0]``.
    # We keep the exact value: the unwrapped element.
    if isinstance(out, list) and len(out) == 1:
        return out[0]
    return out


_STDIO_TYPES = {"stdin", "stdio", "stdin_stdout", "standard_io"}
_CALL_TYPES = {"functional", "function_call", "call", "fn_call"}


def _case_kind(tt: Any, where: Where, field: str) -> str:
    if not isinstance(tt, str):
        raise where.err(f"expected str, got {type(tt).__name__}", field)
    t = tt.strip().lower()
    if t in _STDIO_TYPES:
        return "stdio"
    if t in _CALL_TYPES:
        return "call"
    raise where.err(f"unknown test kind {tt!r}; expected one of {sorted(_STDIO_TYPES | _CALL_TYPES)}", field)


def lcb_cases(cases: Any, where: Where, field: str, *, json_strings: bool = True
              ) -> tuple[list[tuple[str, TestCase]], str | None]:
    """A list of ``{input, output, testtype|type, fn_name?}`` dicts -> [(kind, TestCase)], fn_name.

    ``json_strings``: LCB stores call inputs/outputs as JSON text already (kept verbatim); the
    PrimeIntellect/Codeforces layout stores Python values (encoded here, TACO unwrapping applied).
    """
    if not isinstance(cases, list):
        raise where.err(f"expected a list of test cases, got {type(cases).__name__}", field)
    out, fn = [], None
    for i, c in enumerate(cases):
        f = f"{field}[{i}]"
        if not isinstance(c, dict):
            raise where.err(f"expected an object, got {type(c).__name__}", f)
        key = "testtype" if "testtype" in c else "type" if "type" in c else None
        kind = _case_kind(c[key], where, f"{f}.{key}") if key else "stdio"
        for k in ("input", "output"):
            if k not in c:
                raise where.err("missing required field", f"{f}.{k}")
        inp, exp = c["input"], c["output"]
        if kind == "call":
            fn = fn or c.get("fn_name") or c.get("func_name")
            if json_strings:  # LCB: already JSON text (one argument per line / the return value)
                tc = TestCase(inp if isinstance(inp, str) else args_to_input(inp),
                              exp if isinstance(exp, str) else json.dumps(exp))
            else:  # Python values: a list of positional args, a TACO-wrapped return value
                tc = TestCase(args_to_input(inp), json.dumps(_unwrap_taco(exp)))
            out.append((kind, tc))
        else:
            out.append((kind, TestCase(_text(inp), _text(exp))))
    return out, fn


def _one_kind(cases: list[tuple[str, TestCase]], where: Where, field: str) -> tuple[str, list[TestCase]]:
    kinds = {k for k, _ in cases}
    if len(kinds) > 1:
        raise where.err(f"mixed test kinds {sorted(kinds)} in one problem", field)
    return (kinds.pop() if kinds else "stdio"), [t for _, t in cases]


# --------------------------------------------------------------------------- LiveCodeBench
class _NoGlobalsUnpickler(pickle.Unpickler):
    """Unpickles plain data only: any class/function reference (the way pickles run code) is refused."""

    def find_class(self, module, name):  # noqa: D401
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from an LCB test payload")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing persistent ids in an LCB test payload")


def decode_lcb_private(v: Any, where: Where, field: str = "private_test_cases") -> Any:
    """LCB ``private_test_cases``: a JSON string/list, or the release's base64(zlib(pickle(json-str))).

    Unpickling untrusted data can run arbitrary code, so this only handles that one known LCB layout and
    does it with an unpickler that refuses every global (so only plain str/bytes/containers come out);
    a payload that zlib-decompresses to JSON directly is accepted first.
    """
    if isinstance(v, (list, dict)):
        return v
    if isinstance(v, (bytes, bytearray)):
        v = v.decode("ascii", errors="replace")
    if not isinstance(v, str):
        raise where.err(f"expected str or list, got {type(v).__name__}", field)
    s = v.strip()
    if not s:
        return []
    if s[0] in "[{":
        return json_value(s, where, field)
    try:
        raw = zlib.decompress(base64.b64decode(s, validate=True))
    except (binascii.Error, zlib.error, ValueError):
        raise where.err("neither JSON nor the LCB base64+zlib(+pickle) encoding", field) from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        pass
    try:
        obj = _NoGlobalsUnpickler(io.BytesIO(raw)).load()
    except Exception as e:  # pickle raises many types on corrupt data
        raise where.err(f"undecodable LCB test payload ({type(e).__name__}: {e})", field) from None
    if isinstance(obj, (bytes, bytearray)):
        obj = obj.decode("utf-8", errors="replace")
    if not isinstance(obj, (str, list)):
        raise where.err(f"LCB test payload decoded to {type(obj).__name__}, expected a JSON string", field)
    return json_value(obj, where, field)


def lcb_problem(row: dict, where: Where, *, source: str = "lcb", id_prefix: str = "lcb/") -> Problem:
    qid = get_field(row, "question_id", where, (str, int))
    content = get_field(row, "question_content", where)
    starter = get_field(row, "starter_code", where, (str,), "")
    meta = _metadata(row, where)
    pub = json_value(get_field(row, "public_test_cases", where, (str, list), "[]"), where, "public_test_cases",
                     empty=[])
    priv = decode_lcb_private(row.get("private_test_cases") or "", where)
    c1, fn1 = lcb_cases(pub, where, "public_test_cases")
    c2, fn2 = lcb_cases(priv, where, "private_test_cases")
    kind, tests = _one_kind(c1 + c2, where, "private_test_cases")
    fn = meta.get("func_name") or fn1 or fn2 or ""
    if kind == "call" and not fn:
        raise where.err("functional tests need metadata.func_name", "metadata")
    info = {k: row[k] for k in ("question_title", "platform", "difficulty", "contest_id", "contest_date")
            if row.get(k) not in (None, "")}
    info["n_public_tests"] = len(c1)
    return Problem(id=f"{id_prefix}{qid}", statement=content, kind=kind, tests=tests, source=source,
                   entry_point=fn if kind == "call" else "", starter_code=starter,
                   metadata={**info, **{k: v for k, v in meta.items() if k != "func_name"}, "native_id": str(qid)})


# --------------------------------------------------------------------------- DeepCoder
def deepcoder_problem(row: dict, where: Where, *, subset: str, pid: str) -> Problem:
    statement = first_field(row, ("problem", "question", "prompt"), where)[1]
    tests_v = json_value(get_field(row, "tests", where, (str, list, dict)), where, "tests")
    meta = _metadata(row, where)
    starter = get_field(row, "starter_code", where, (str,), "") or meta.get("starter_code") or ""
    fn = meta.get("func_name") or meta.get("fn_name") or ""
    if isinstance(tests_v, dict):  # TACO layout
        ins, outs = tests_v.get("inputs"), tests_v.get("outputs")
        if not isinstance(ins, list) or not isinstance(outs, list):
            raise where.err("TACO tests need lists 'inputs' and 'outputs'", "tests")
        if len(ins) != len(outs):
            raise where.err(f"{len(ins)} inputs but {len(outs)} outputs", "tests")
        fn = tests_v.get("fn_name") or fn
        if fn:
            kind = "call"
            tests = [TestCase(args_to_input(i), json.dumps(_unwrap_taco(o))) for i, o in zip(ins, outs)]
        else:
            kind = "stdio"
            tests = [TestCase(_text(i), _text(o)) for i, o in zip(ins, outs)]
        layout = "taco"
    elif isinstance(tests_v, list):
        lcb_layout = all(isinstance(c, dict) and "testtype" in c for c in tests_v)
        cases, fn2 = lcb_cases(tests_v, where, "tests", json_strings=lcb_layout)
        kind, tests = _one_kind(cases, where, "tests")
        fn = fn or fn2 or ""
        layout = "lcb" if lcb_layout else "primeintellect"
    else:
        raise where.err(f"expected a list or an object, got {type(tests_v).__name__}", "tests")
    if kind == "call" and not fn:
        raise where.err("function-call tests need fn_name (in tests or metadata.func_name)", "tests")
    return Problem(id=pid, statement=statement, kind=kind, tests=tests, source=f"deepcoder-{subset}",
                   entry_point=fn if kind == "call" else "", starter_code=starter,
                   metadata={"prompt": "lcb" if subset in ("lcbv5", "codeforces") else "raw", "subset": subset, "tests_layout": layout,
                             **{k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}})


# --------------------------------------------------------------------------- CURE / Gen-Verse
def cure_problem(row: dict, where: Where, *, name: str, index: int) -> Problem:
    question = first_field(row, ("question", "problem", "prompt"), where)[1]
    ins = get_field(row, "test_input", where, (list,))
    outs = get_field(row, "test_output", where, (list,))
    if len(ins) != len(outs):
        raise where.err(f"{len(ins)} test inputs but {len(outs)} test outputs", "test_output")
    native = row.get("id", row.get("task_id", index))
    if not isinstance(native, (str, int)):
        raise where.err(f"expected str or int, got {type(native).__name__}", "id")
    tl = row.get("test_time_limit", row.get("time_limit", 2.0))
    tl = float(tl) if isinstance(tl, (int, float)) and not isinstance(tl, bool) and tl > 0 else 2.0
    meta: dict[str, Any] = {"benchmark": name, "native_id": str(native)}
    if isinstance(row.get("example_input"), list) and isinstance(row.get("example_output"), list):
        meta["examples"] = [{"input": _text(i), "output": _text(o)}
                            for i, o in zip(row["example_input"], row["example_output"])]
    return Problem(id=f"cure-{name}/{native}", statement=question, kind="stdio",
                   tests=[TestCase(_text(i), _text(o)) for i, o in zip(ins, outs)], source=f"cure-{name}",
                   time_limit=tl, metadata=meta)


# --------------------------------------------------------------------------- HumanEval
def humaneval_problem(row: dict, where: Where) -> Problem:
    tid = get_field(row, "task_id", where)
    prompt = get_field(row, "prompt", where)
    entry = get_field(row, "entry_point", where)
    canon = get_field(row, "canonical_solution", where)
    test = get_field(row, "test", where)
    if not entry.isidentifier():
        raise where.err(f"not a Python identifier: {entry!r}", "entry_point")
    return Problem(id=tid, statement=prompt, kind="assert", tests=[TestCase(f"{test}\ncheck({entry})\n", "")],
                   source="humaneval", entry_point=entry, starter_code=prompt, solutions=[prompt + canon],
                   metadata={"native_id": tid})


# --------------------------------------------------------------------------- MBPP
_BUILTIN_NAMES = set(dir(builtins)) | {"math", "re", "np"}


def _call_names(src: str) -> list[str]:
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return []
    return [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]


def _defs(code: str) -> dict[str, ast.FunctionDef]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def mbpp_problem(row: dict, where: Where, *, include_challenge: bool = False) -> Problem:
    tid = get_field(row, "task_id", where, (str, int))
    text = first_field(row, ("text", "prompt"), where)[1]
    code = get_field(row, "code", where, (str,), "")
    test_list = get_field(row, "test_list", where, (list,))
    for i, t in enumerate(test_list):
        if not isinstance(t, str):
            raise where.err(f"expected str, got {type(t).__name__}", f"test_list[{i}]")
    asserts = [t.strip() for t in test_list if t.strip()]
    if not asserts:
        raise where.err("no assert lines", "test_list")
    setup = get_field(row, "test_setup_code", where, (str,), "")
    imports = get_field(row, "test_imports", where, (list,), [])
    setup = "\n".join([*(str(x) for x in imports), setup]).strip()
    challenge = [t.strip() for t in get_field(row, "challenge_test_list", where, (list,), []) if str(t).strip()]
    defs = _defs(code)
    names = _call_names(asserts[0])
    entry = next((n for n in names if n in defs), None) or next((n for n in names if n not in _BUILTIN_NAMES), "")
    if not entry:
        raise where.err(f"cannot find the function under test in {asserts[0]!r}", "test_list[0]")
    starter = f"def {entry}({ast.unparse(defs[entry].args)}):\n" if entry in defs else ""
    statement = f"{text.strip()}\nYour code should pass these tests:\n\n" + "\n".join(asserts)
    tests = asserts + (challenge if include_challenge else [])
    return Problem(id=f"mbpp/{tid}", statement=statement, kind="assert", tests=[TestCase(t + "\n", "") for t in tests],
                   source="mbpp", entry_point=entry, starter_code=starter, setup_code=setup,
                   solutions=[code] if code.strip() else [],
                   metadata={"native_id": str(tid), "challenge_tests": len(challenge)})


# --------------------------------------------------------------------------- KodCode
_SOLUTION_IMPORT = re.compile(r"^\s*from\s+solution\s+import\s+.*$|^\s*import\s+solution\s*$", re.M)


def pytest_to_asserts(test_code: str) -> list[str]:
    """KodCode pytest code -> one test program per plain ``test_*`` function.

    ``from solution import ...`` lines are dropped (the candidate is defined in the same program);
    ``import solution`` binds the running module instead; ``import pytest`` is guarded so that programs
    that do not need it also run without pytest installed. Test functions taking arguments (fixtures,
    ``parametrize``) or carrying decorators are removed from the program. Returns [] if the code does
    not parse or has no plain test function.
    """
    try:
        tree = ast.parse(test_code)
    except SyntaxError:
        return []
    keep, drop = [], []
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test"):
            plain = (isinstance(n, ast.FunctionDef) and not n.decorator_list
                     and not (n.args.args or n.args.vararg or n.args.kwonlyargs))
            (keep if plain else drop).append(n)
    if not keep:
        return []
    lines = test_code.splitlines()
    for n in sorted(drop, key=lambda n: n.lineno, reverse=True):
        start = min([n.lineno] + [d.lineno for d in n.decorator_list]) - 1
        del lines[start:n.end_lineno]
    body = "\n".join(lines)
    body = _SOLUTION_IMPORT.sub(lambda m: ("import sys as _sys\nsolution = _sys.modules[__name__]"
                                           if m.group(0).split()[0] == "import" else ""), body)
    body = re.sub(r"^import pytest\s*$", "try:\n    import pytest\nexcept ImportError:  # only some tests need it\n"
                  "    pytest = None", body, flags=re.M)
    return [f"{body}\n\n{n.name}()\n" for n in keep]


def kodcode_problem(row: dict, where: Where, *, keep_tests: bool = False, index: int = 0) -> Problem:
    question = get_field(row, "question", where)
    native = row.get("question_id", row.get("id", index))
    if not isinstance(native, (str, int)):
        raise where.err(f"expected str or int, got {type(native).__name__}", "question_id")
    solution = get_field(row, "solution", where, (str,), "")
    test = get_field(row, "test", where, (str,), "")
    info = json_value(row.get("test_info") or [], where, "test_info", empty=[])
    if isinstance(info, dict):
        info = [info]
    if not isinstance(info, list):
        raise where.err(f"expected a list, got {type(info).__name__}", "test_info")
    entry, starter = "", ""
    if info and isinstance(info[0], dict):
        entry = str(info[0].get("function_name") or "")
        decl = str(info[0].get("function_declaration") or "").strip()
        if decl:
            starter = decl if decl.endswith(":") or "\n" in decl else decl + ":"
            starter += "\n"
    meta: dict[str, Any] = {"native_id": str(native), "synthetic": True}
    for k in ("subset", "style", "gpt_difficulty", "gpt_pass_percentage", "version"):
        if isinstance(row.get(k), (str, int, float)):
            meta[k] = row[k]
    kind, tests = "none", []
    if keep_tests:
        progs = pytest_to_asserts(test)
        if progs:
            kind, tests = "assert", [TestCase(p, "") for p in progs]
            meta["weak_tests"] = True
        else:
            meta["tests_dropped"] = "no runnable test_* function in the pytest code"
    return Problem(id=f"kodcode/{native}", statement=question, kind=kind, tests=tests, source="kodcode",
                   entry_point=entry, starter_code=starter, solutions=[solution] if solution.strip() else [],
                   metadata=meta)


# --------------------------------------------------------------------------- statement-only (QueST etc.)
STATEMENT_FIELDS = ("question", "problem", "statement", "question_content", "prompt", "instruction",
                    "content", "query")
ID_FIELDS = ("id", "question_id", "problem_id", "task_id", "uid")
SOLUTION_FIELDS = ("solution", "reference_solution", "code")


def statement_only_problem(row: dict, where: Where, *, source: str = "quest", index: int = 0) -> Problem:
    """A statement without tests. Accepts the statement in the first present of ``STATEMENT_FIELDS``
    (or a chat list under ``messages``/``conversations``: the first user turn), the id in ``ID_FIELDS``
    (else the record number) and an optional reference solution in ``SOLUTION_FIELDS``."""
    _, statement = first_field(row, STATEMENT_FIELDS, where, (str,), required=False)
    if statement is None:
        for k in ("messages", "conversations"):
            msgs = row.get(k)
            if isinstance(msgs, list):
                statement = next((str(m.get("content") or m.get("value") or "") for m in msgs if isinstance(m, dict)
                                  and m.get("role", m.get("from")) in ("user", "human")), None)
                if statement:
                    break
    if not statement:
        raise where.err(f"no statement (any of {list(STATEMENT_FIELDS)} or messages)", STATEMENT_FIELDS[0])
    _, native = first_field(row, ID_FIELDS, where, (str, int), required=False)
    native = index if native is None else native
    _, sol = first_field(row, SOLUTION_FIELDS, where, (str,), required=False)
    meta: dict[str, Any] = {"native_id": str(native), "synthetic": True}
    for k in ("difficulty", "source", "dataset"):
        if isinstance(row.get(k), (str, int, float)):
            meta[k] = row[k]
    return Problem(id=f"{source}/{native}", statement=statement, kind="none", tests=[], source=source,
                   starter_code=str(row.get("starter_code") or ""), solutions=[sol] if sol else [], metadata=meta)
