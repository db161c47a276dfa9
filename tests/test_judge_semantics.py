"""The judges' semantics: LiveCodeBench's import prelude (call/stdio), MBPP's order (code, test_setup_code,
tests) with the in-process fallback for candidate-defined classes, HumanEval's trusted helpers, and the
HumanEval reference check (all 164 canonical solutions pass, a wrong variant of each fails; ~5 s)."""
from __future__ import annotations

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
TREE_SETUP = D("""
    root = Node(1)
    root.left = Node(2)
    root.right = Node(3)
    root.left.left = Node(4)
    root.left.right = Node(5)
    root.left.left.left = Node(8)
    root1 = Node(1)
    root1.left = Node(2)
    root1.right = Node(3)
    root1.left.left = Node(4)
    root1.left.right = Node(5)
    root1.right.left = Node(6)
    root1.left.left.left = Node(7)
    root2 = Node(1)
    root2.left = Node(2)
    root2.left.left = Node(3)
    root2.left.left.left = Node(7)
""")
NODE = "class Node:\n    def __init__(self, data):\n        self.data = data\n        self.left = None\n        self.right = None\n"
# modelled on MBPP tasks 367 (is_tree_balanced) and 927 (max_height): the setup builds the solution's Node objects
MBPP_367 = Problem("mbpp/367", "balanced", "assert",
                   [TestCase(f"assert is_tree_balanced({t}) == {v}\n") for t, v in
                    (("root", False), ("root1", True), ("root2", False))],
                   entry_point="is_tree_balanced", setup_code=TREE_SETUP)
MBPP_367_REF = NODE + D("""
    def get_height(root):
        if root is None:
            return 0
        return max(get_height(root.left), get_height(root.right)) + 1
    def is_tree_balanced(root):
        if root is None:
            return True
        lh, rh = get_height(root.left), get_height(root.right)
        return abs(lh - rh) <= 1 and is_tree_balanced(root.left) and is_tree_balanced(root.right)
""")
MBPP_927 = Problem("mbpp/927", "height", "assert",
                   [TestCase(f"assert (max_height({t})) == {v}\n") for t, v in (("root", 4), ("root1", 4), ("root2", 4))],
                   entry_point="max_height", setup_code=TREE_SETUP)
MBPP_927_REF = NODE + D("""
    def max_height(node):
        if node is None:
            return 0
        return max(max_height(node.left), max_height(node.right)) + 1
""")


def test_mbpp_setup_runs_after_the_code_with_the_flagged_fallback():
    for prob, ref in ((MBPP_367, MBPP_367_REF), (MBPP_927, MBPP_927_REF)):
        r = grade(prob, ref, FAST)
        assert r.passed, [(t.verdict, t.error_type, t.detail) for t in r.tests]
        assert r.isolation_level == "in_process" and {t.isolation_level for t in r.tests} == {"in_process"}
        assert not grade(prob, ref.replace("+ 1", "+ 2"), FAST).passed


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
