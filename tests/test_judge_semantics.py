"""The judges' semantics: LiveCodeBench's import prelude (call/stdio), MBPP's order (code, test_setup_code,
tests) with the in-process fallback for candidate-defined classes, HumanEval's trusted helpers, and the
HumanEval reference check (all 164 canonical solutions pass, a wrong variant of each fails; ~5 s)."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

from cskit.problems import Problem, TestCase
from cskit.sandbox import SandboxLimits, grade, grade_many

FAST = SandboxLimits(timeout_s=5.0, allow_unisolated=True)
D = textwrap.dedent
FIXTURES = Path(__file__).parent / "fixtures" / "problems"


# ------------------------------------------------------------------ LiveCodeBench's prelude
def test_stdio_gets_the_lcb_prelude():
    p = Problem("s", "s", "stdio", [TestCase("3\n5 1 4\n", "inf 1 4 5 3 2\n")])
    code = D("""
        n = int(input())
        xs = list(map(int, input().split()))
        @cache
        def fib(k: int) -> int:
            return k if k < 2 else fib(k - 1) + fib(k - 2)
        q = deque(sorted(xs)); h = []
        heappush(h, 2)
        best: List[int] = [x for x in q]
        print(inf, *best, bisect_left(best, 9) - 0 if False else n, gcd(4, 6))
    """)
    r = grade(p, code, FAST)
    assert r.passed, [(t.verdict, t.error_type, t.detail) for t in r.tests]


def test_call_gets_the_lcb_prelude_and_recursion_limit():
    p = Problem("c", "c", "call", [TestCase("[3, 1, 2]\n", "3"), TestCase("[]\n", "-1")], entry_point="best")
    code = D("""
        class Solution:
            def best(self, nums: List[int]) -> int:
                def deep(k):
                    return 0 if k == 0 else 1 + deep(k - 1)
                assert deep(20000) == 20000          # sys.setrecursionlimit(50000) of the prelude
                sq = lru_cache(None)(lambda v: v * v)
                assert sq(3) == 9
                m = max(nums, default=-inf)
                return -1 if m == -inf else int(floor(m))
    """)
    r = grade(p, code, FAST)
    assert r.passed, [(t.verdict, t.error_type, t.detail) for t in r.tests]


def test_assert_kind_has_no_prelude():
    """HumanEval/MBPP programs run as the benchmarks run them: no LiveCodeBench imports."""
    p = Problem("a", "a", "assert", [TestCase("assert f() == 1\n")], entry_point="f")
    r = grade(p, "def f():\n    return int(inf > 0)\n", FAST)
    assert r.verdict == "runtime_error" and r.error_type == "NameError"
    assert grade(p, "import math\ndef f():\n    return int(math.inf > 0)\n", FAST).passed


# ------------------------------------------------------------------ MBPP: code, test_setup_code, tests
# MBPP (google-research/mbpp, mbpp.jsonl; CC BY 4.0) tasks 367 and 927 build the solution's Node objects
# in test_setup_code, 601 builds Pair objects in its asserts (all three need the flagged fallback); 533
# passes the built-in classes int/str/float (these cross the boundary as plain data)
MBPP_ROWS = json.loads(r"""
[
 {
  "task_id": 367,
  "text": "Write a function to check if a binary tree is balanced or not.",
  "code": "class Node: \r\n\tdef __init__(self, data): \r\n\t\tself.data = data \r\n\t\tself.left = None\r\n\t\tself.right = None\r\ndef get_height(root): \r\n\tif root is None: \r\n\t\treturn 0\r\n\treturn max(get_height(root.left), get_height(root.right)) + 1\r\ndef is_tree_balanced(root): \r\n\tif root is None: \r\n\t\treturn True\r\n\tlh = get_height(root.left) \r\n\trh = get_height(root.right) \r\n\tif (abs(lh - rh) <= 1) and is_tree_balanced( \r\n\troot.left) is True and is_tree_balanced( root.right) is True: \r\n\t\treturn True\r\n\treturn False",
  "test_setup_code": "root = Node(1) \r\nroot.left = Node(2) \r\nroot.right = Node(3) \r\nroot.left.left = Node(4) \r\nroot.left.right = Node(5) \r\nroot.left.left.left = Node(8) \r\nroot1 = Node(1) \r\nroot1.left = Node(2) \r\nroot1.right = Node(3) \r\nroot1.left.left = Node(4) \r\nroot1.left.right = Node(5) \r\nroot1.right.left = Node(6) \r\nroot1.left.left.left = Node(7)\r\nroot2 = Node(1) \r\nroot2.left = Node(2) \r\nroot2.right = Node(3) \r\nroot2.left.left = Node(4) \r\nroot2.left.right = Node(5)\r\nroot2.left.left.left = Node(7)",
  "test_list": [
   "assert is_tree_balanced(root) == False",
   "assert is_tree_balanced(root1) == True",
   "assert is_tree_balanced(root2) == False "
  ]
 },
 {
  "task_id": 927,
  "text": "Write a function to calculate the height of the given binary tree.",
  "code": "class Node: \r\n\tdef __init__(self, data): \r\n\t\tself.data = data \r\n\t\tself.left = None\r\n\t\tself.right = None\r\ndef max_height(node): \r\n\tif node is None: \r\n\t\treturn 0 ; \r\n\telse : \r\n\t\tleft_height = max_height(node.left) \r\n\t\tright_height = max_height(node.right) \r\n\t\tif (left_height > right_height): \r\n\t\t\treturn left_height+1\r\n\t\telse: \r\n\t\t\treturn right_height+1",
  "test_setup_code": "root = Node(1) \r\nroot.left = Node(2) \r\nroot.right = Node(3) \r\nroot.left.left = Node(4) \r\nroot.left.right = Node(5) \r\nroot1 = Node(1);  \r\nroot1.left = Node(2);  \r\nroot1.right = Node(3);  \r\nroot1.left.left = Node(4);  \r\nroot1.right.left = Node(5);  \r\nroot1.right.right = Node(6);  \r\nroot1.right.right.right= Node(7);  \r\nroot1.right.right.right.right = Node(8)\r\nroot2 = Node(1) \r\nroot2.left = Node(2) \r\nroot2.right = Node(3) \r\nroot2.left.left = Node(4) \r\nroot2.left.right = Node(5)\r\nroot2.left.left.left = Node(6)\r\nroot2.left.left.right = Node(7)",
  "test_list": [
   "assert (max_height(root)) == 3",
   "assert (max_height(root1)) == 5 ",
   "assert (max_height(root2)) == 4"
  ]
 },
 {
  "task_id": 601,
  "text": "Write a function to find the longest chain which can be formed from the given set of pairs.",
  "code": "class Pair(object): \r\n\tdef __init__(self, a, b): \r\n\t\tself.a = a \r\n\t\tself.b = b \r\ndef max_chain_length(arr, n): \r\n\tmax = 0\r\n\tmcl = [1 for i in range(n)] \r\n\tfor i in range(1, n): \r\n\t\tfor j in range(0, i): \r\n\t\t\tif (arr[i].a > arr[j].b and\r\n\t\t\t\tmcl[i] < mcl[j] + 1): \r\n\t\t\t\tmcl[i] = mcl[j] + 1\r\n\tfor i in range(n): \r\n\t\tif (max < mcl[i]): \r\n\t\t\tmax = mcl[i] \r\n\treturn max",
  "test_setup_code": "",
  "test_list": [
   "assert max_chain_length([Pair(5, 24), Pair(15, 25),Pair(27, 40), Pair(50, 60)], 4) == 3",
   "assert max_chain_length([Pair(1, 2), Pair(3, 4),Pair(5, 6), Pair(7, 8)], 4) == 4",
   "assert max_chain_length([Pair(19, 10), Pair(11, 12),Pair(13, 14), Pair(15, 16), Pair(31, 54)], 5) == 5"
  ]
 },
 {
  "task_id": 533,
  "text": "Write a function to remove particular data type elements from the given tuple.",
  "code": "def remove_datatype(test_tuple, data_type):\r\n  res = []\r\n  for ele in test_tuple:\r\n    if not isinstance(ele, data_type):\r\n      res.append(ele)\r\n  return (res) ",
  "test_setup_code": "",
  "test_list": [
   "assert remove_datatype((4, 5, 4, 7.7, 1.2), int) == [7.7, 1.2]",
   "assert remove_datatype((7, 8, 9, \"SR\"), str) == [7, 8, 9]",
   "assert remove_datatype((7, 1.1, 2, 2.2), float) == [7, 2]"
  ]
 }
]
""")


def mbpp(task_id):
    from cskit.problems.formats import Where, mbpp_problem

    row = next(r for r in MBPP_ROWS if r["task_id"] == task_id)
    return mbpp_problem(row, Where("mbpp.jsonl", task_id))


def test_mbpp_setup_runs_after_the_code_with_the_flagged_fallback():
    for tid in (367, 927, 601):
        prob = mbpp(tid)
        ref = prob.solutions[0]
        r = grade(prob, ref, FAST)
        assert r.passed, (tid, [(t.verdict, t.error_type, t.detail) for t in r.tests])
        assert r.isolation_level == "in_process" and {t.isolation_level for t in r.tests} == {"in_process"}
        assert not grade(prob, ref.replace("+1", "+2").replace("+ 1", "+ 2"), FAST).passed, tid
    r = grade(mbpp(533), mbpp(533).solutions[0], FAST)
    assert r.passed and r.isolation_level == "process"


def test_setup_values_computed_with_the_candidate_stay_isolated():
    """Setup code that only calls the candidate's functions runs in the driver (no fallback)."""
    p = Problem("mbpp/x", "x", "assert", [TestCase("assert x == 4 and f(3) == 6\n")], entry_point="f",
                setup_code="import math\nx = f(2)\n")
    r = grade(p, "def f(a):\n    return int(math.fsum([a, a]))\n", FAST)   # setup's import is visible to the code
    assert r.passed and r.isolation_level == "process", [(t.verdict, t.error_type, t.detail) for t in r.tests]


def test_mbpp_public_fixture_references_pass():
    from cskit.problems import load_problems

    probs = load_problems(f"mbpp:{FIXTURES / 'mbpp.jsonl'}")
    res = grade_many([(p, p.solutions[0]) for p in probs], FAST, workers=1, progress=False)
    assert [r.verdict for r in res] == ["passed"] * len(probs) and len(probs) == 2


# ------------------------------------------------------------------ HumanEval: the problem's own helpers
HE32 = Problem("HumanEval/32-like", "zero", "assert", [TestCase(D("""
    def check(candidate):
        import math
        for coeffs in ([1, 2], [-6, 11, -6, 1], [2, -3, 1]):
            x = candidate(coeffs[:])
            assert math.fabs(poly(coeffs, x)) < 1e-4
    check(find_zero)
"""))], entry_point="find_zero", starter_code=D('''
    import math
    def poly(xs: list, x: float):
        """Evaluates polynomial with coefficients xs at point x."""
        return sum([coeff * math.pow(x, i) for i, coeff in enumerate(xs)])
    def find_zero(xs: list):
        """Find x such that poly(x) = 0."""
'''))


def test_trusted_helpers_come_from_the_problem_not_the_completion():
    honest = HE32.starter_code + D("""
        begin, end = -1.0, 1.0
        while poly(xs, begin) * poly(xs, end) > 0:
            begin *= 2.0
            end *= 2.0
        while end - begin > 1e-10:
            center = (begin + end) / 2.0
            if poly(xs, center) * poly(xs, begin) > 0:
                begin = center
            else:
                end = center
        return begin
    """).replace("\n", "\n    ").rstrip() + "\n"
    assert grade(HE32, honest, FAST).passed
    # a completion that redefines the helper the test checks with, and answers nonsense
    liar = "def poly(xs, x):\n    return 0.0\ndef find_zero(xs):\n    return 12345.0\n"
    r = grade(HE32, liar, FAST)
    assert r.verdict == "runtime_error" and r.error_type == "AssertionError"


# ------------------------------------------------------------------ HumanEval: the package's 164 references
def _wrong(p) -> str:
    return p.solutions[0] + D(f"""

        _cskit_reference = {p.entry_point}
        def {p.entry_point}(*a, **k):
            r = _cskit_reference(*a, **k)
            if isinstance(r, bool):
                return not r
            if isinstance(r, (int, float)):
                return r + 1
            if isinstance(r, str):
                return r + "x"
            if isinstance(r, (list, tuple)):
                return list(r) + [None]
            return 0 if r is None else None
    """)


def test_humaneval_all_canonical_pass_and_wrong_variants_fail():
    from cskit.problems import load_problems

    probs = load_problems("humaneval")
    assert len(probs) == 164
    lim = SandboxLimits(timeout_s=10.0, allow_unisolated=True)
    ok = grade_many([(p, p.solutions[0]) for p in probs], lim, progress=False)
    bad = [(p.id, r.verdict, r.error_type) for p, r in zip(probs, ok) if not r.passed]
    assert not bad, bad
    assert {r.isolation_level for r in ok} == {"process"}   # no HumanEval test needs the fallback
    wrong = grade_many([(p, _wrong(p)) for p in probs], lim, progress=False)
    assert [p.id for p, r in zip(probs, wrong) if r.passed] == []
