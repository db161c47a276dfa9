"""Basic procedural families: one expression with a parameter (``n * k``, ``s.count(c)``, ``k in nums`` ...).

These are the level a 135M-parameter policy sometimes solves (SmolLM2-135M passes none of the standard
families' samples, 0 of 320 in a measured run), so CPU-scale runs such as the ``study`` profile get problems
with *mixed* outcomes -- the ones that give preference pairs and a GRPO signal. Their tests still catch
plausible wrong code: every generator puts the parameter's own boundary, empty inputs, negatives and large
values first (the mutation check holds them to the same >= 90% kill rate as every family).

Splits follow the same rule as the standard families: a family lives in one split in every kind, and a family
that resembles a bundled task (``twin_of``) shares that task's split. Val and test families resemble no train
task, bundled or procedural. Each builder returns a :class:`~cskit.problems.procedural.base.Family` with
``level="basic"``; ``BUILDERS`` lists them.
"""
from __future__ import annotations

import string
from functools import partial

from cskit.problems.procedural.base import BIG, Family, list_edges, one, rand_lists, src, word

__all__ = ["BUILDERS"]

_F = partial(Family, level="basic")
_ALNUM = string.ascii_lowercase + "XYZ"


def _ints_edges(r, k, *, lo=-10 ** 6, hi=10 ** 6):
    return [0, 1, -1, k, -k, k - 1, k + 1, BIG, -BIG] + [r.randint(lo, hi) for _ in range(5)]


def _texts(r, extra=()):
    return ["", "a", "XYZ", *extra] + [word(r, r.randint(1, 9), _ALNUM) for _ in range(6)]


def _lists(r, extra=(), min_len=0):
    return one(list_edges(r, min_len=min_len) + [list(x) for x in extra] + rand_lists(r, 5, min_len=min_len))


# ============================================================================= train
def _times_k():
    return _F("times_k", "times_k", (("n", "int"),), "int", lambda r: {"k": r.randint(2, 40)},
              lambda p: f"n multiplied by {p['k']}",
              lambda p: src(f"""
              def times_k(n):
                  return n * {p['k']}
              """),
              lambda r, p: one(_ints_edges(r, p["k"])), twin_of=("double",))


def _plus_k():
    return _F("plus_k", "plus_k", (("n", "int"),), "int", lambda r: {"k": r.randint(2, 500)},
              lambda p: f"n plus {p['k']}",
              lambda p: src(f"""
              def plus_k(n):
                  return n + {p['k']}
              """),
              lambda r, p: one(_ints_edges(r, p["k"])), twin_of=("add",))


def _minus_k():
    return _F("minus_k", "minus_k", (("n", "int"),), "int", lambda r: {"k": r.randint(2, 500)},
              lambda p: f"n minus {p['k']}",
              lambda p: src(f"""
              def minus_k(n):
                  return n - {p['k']}
              """),
              lambda r, p: one(_ints_edges(r, p["k"])))


def _square_plus_k():
    return _F("square_plus_k", "square_plus_k", (("n", "int"),), "int", lambda r: {"k": r.randint(2, 99)},
              lambda p: f"n squared plus {p['k']} (n * n + {p['k']})",
              lambda p: src(f"""
              def square_plus_k(n):
                  return n * n + {p['k']}
              """),
              lambda r, p: one(_ints_edges(r, p["k"], lo=-1000, hi=1000)), twin_of=("square_list",))


def _is_multiple():
    return _F("is_multiple", "is_multiple", (("n", "int"),), "bool", lambda r: {"k": r.randint(3, 30)},
              lambda p: f"n is divisible by {p['k']}",
              lambda p: src(f"""
              def is_multiple(n):
                  return n % {p['k']} == 0
              """),
              lambda r, p: one([0, 1, p["k"], -p["k"], p["k"] - 1, p["k"] + 1, 2 * p["k"], 3 * p["k"] + 1,
                                p["k"] * 1000, BIG] + [r.randint(-500, 500) for _ in range(5)]),
              twin_of=("parity",))


def _is_above():
    return _F("is_above", "is_above", (("n", "int"),), "bool", lambda r: {"k": r.randint(-50, 100)},
              lambda p: f"n is greater than {p['k']}",
              lambda p: src(f"""
              def is_above(n):
                  return n > {p['k']}
              """),
              lambda r, p: one([p["k"], p["k"] + 1, p["k"] - 1, 0, BIG, -BIG] + [r.randint(-200, 200) for _ in range(5)]),
              twin_of=("clamp",))


def _repeat_text():
    return _F("repeat_text", "repeat_text", (("s", "str"),), "str", lambda r: {"k": r.randint(2, 6)},
              lambda p: f"the string s repeated {p['k']} times, with nothing between the copies",
              lambda p: src(f"""
              def repeat_text(s):
                  return s * {p['k']}
              """),
              lambda r, p: one(_texts(r)))


def _append_text():
    return _F("append_text", "append_text", (("s", "str"),), "str", lambda r: {"t": word(r, r.randint(2, 5))},
              lambda p: f"the string s followed by the text \"{p['t']}\"",
              lambda p: src(f"""
              def append_text(s):
                  return s + {p['t']!r}
              """),
              lambda r, p: one(_texts(r, (p["t"],))))


def _length_plus_k():
    return _F("length_plus_k", "length_plus_k", (("s", "str"),), "int", lambda r: {"k": r.randint(1, 50)},
              lambda p: f"the number of characters in s plus {p['k']}",
              lambda p: src(f"""
              def length_plus_k(s):
                  return len(s) + {p['k']}
              """),
              lambda r, p: one(_texts(r)), twin_of=("word_lengths",))


def _list_times_k():
    return _F("list_times_k", "list_times_k", (("nums", "ints"),), "ints", lambda r: {"k": r.randint(2, 12)},
              lambda p: f"the list of every element of nums multiplied by {p['k']}, in the same order",
              lambda p: src(f"""
              def list_times_k(nums):
                  return [x * {p['k']} for x in nums]
              """),
              lambda r, p: _lists(r), twin_of=("square_list",))


def _list_plus_k():
    return _F("list_plus_k", "list_plus_k", (("nums", "ints"),), "ints", lambda r: {"k": r.randint(2, 99)},
              lambda p: f"the list of every element of nums plus {p['k']}, in the same order",
              lambda p: src(f"""
              def list_plus_k(nums):
                  return [x + {p['k']} for x in nums]
              """),
              lambda r, p: _lists(r), twin_of=("square_list",))


def _count_value():
    return _F("count_value", "count_value", (("nums", "ints"),), "int", lambda r: {"k": r.randint(-9, 9)},
              lambda p: f"how many elements of nums are equal to {p['k']}",
              lambda p: src(f"""
              def count_value(nums):
                  return nums.count({p['k']})
              """),
              lambda r, p: _lists(r, ([p["k"]], [p["k"], p["k"] + 1, p["k"]], [p["k"] - 1, p["k"] + 1],
                                      [p["k"]] * 5)),
              twin_of=("count_positive", "count_char"))


def _sum_plus_k():
    return _F("sum_plus_k", "sum_plus_k", (("nums", "ints"),), "int", lambda r: {"k": r.randint(1, 99)},
              lambda p: f"the sum of the elements of nums plus {p['k']} ({p['k']} for an empty list)",
              lambda p: src(f"""
              def sum_plus_k(nums):
                  return sum(nums) + {p['k']}
              """),
              lambda r, p: _lists(r), twin_of=("sum_list",))


def _max_or_k():
    return _F("max_or_k", "max_or_k", (("nums", "ints"),), "int", lambda r: {"k": r.randint(-99, 99)},
              lambda p: f"the largest element of nums, or {p['k']} when nums is empty",
              lambda p: src(f"""
              def max_or_k(nums):
                  if not nums:
                      return {p['k']}
                  return max(nums)
              """),
              lambda r, p: _lists(r, ([p["k"] - 1], [p["k"] + 1, p["k"] - 3])), twin_of=("max_of_list", "min_and_max"))


def _count_letter():
    return _F("count_letter", "count_letter", (("s", "str"),), "int", lambda r: {"c": r.choice("aeiostxyz")},
              lambda p: f"how many times the lowercase letter '{p['c']}' appears in s",
              lambda p: src(f"""
              def count_letter(s):
                  return s.count({p['c']!r})
              """),
              lambda r, p: one(_texts(r, (p["c"], p["c"] * 3, p["c"].upper() + p["c"], "b" + p["c"] + "b" + p["c"]))),
              twin_of=("count_char", "count_vowels"))


def _starts_with():
    return _F("starts_with", "starts_with", (("s", "str"),), "bool", lambda r: {"t": word(r, r.randint(2, 3), "abc")},
              lambda p: f"s starts with the text \"{p['t']}\"",
              lambda p: src(f"""
              def starts_with(s):
                  return s.startswith({p['t']!r})
              """),
              lambda r, p: one(_texts(r, (p["t"], p["t"] + "x", "x" + p["t"], p["t"][:-1], p["t"].upper())) +
                               [p["t"] + word(r, 3) for _ in range(3)]),
              twin_of=("palindrome",))


def _length_times_k():
    return _F("length_times_k", "length_times_k", (("nums", "ints"),), "int", lambda r: {"k": r.randint(2, 20)},
              lambda p: f"the number of elements of nums multiplied by {p['k']}",
              lambda p: src(f"""
              def length_times_k(nums):
                  return len(nums) * {p['k']}
              """),
              lambda r, p: _lists(r), twin_of=("count_words",))


def _upper_plus():
    return _F("upper_plus", "upper_plus", (("s", "str"),), "str", lambda r: {"k": r.randint(1, 4)},
              lambda p: f"s in upper case followed by {p['k']} exclamation mark{'s' if p['k'] > 1 else ''} (!)",
              lambda p: src(f"""
              def upper_plus(s):
                  return s.upper() + '!' * {p['k']}
              """),
              lambda r, p: one(_texts(r, ("Ab",))), twin_of=("count_upper", "reverse_string"))


# ============================================================================= val
def _floor_div_k():
    return _F("floor_div_k", "floor_div_k", (("n", "int"),), "int", lambda r: {"k": r.randint(2, 30)},
              lambda p: f"n divided by {p['k']}, rounded down (integer division)",
              lambda p: src(f"""
              def floor_div_k(n):
                  return n // {p['k']}
              """),
              lambda r, p: one([0, 1, p["k"] - 1, p["k"], p["k"] + 1, 2 * p["k"] - 1, 2 * p["k"], BIG] +
                               [r.randint(0, 10 ** 6) for _ in range(5)]),
              lambda p: "n >= 0.", split="val", twin_of=("divide_two_decimals",))


def _cube_minus_k():
    return _F("cube_minus_k", "cube_minus_k", (("n", "int"),), "int", lambda r: {"k": r.randint(2, 99)},
              lambda p: f"n cubed minus {p['k']} (n * n * n - {p['k']})",
              lambda p: src(f"""
              def cube_minus_k(n):
                  return n * n * n - {p['k']}
              """),
              lambda r, p: one(_ints_edges(r, p["k"], lo=-300, hi=300)), split="val", twin_of=("star_square",))


def _distance_to_k():
    return _F("distance_to_k", "distance_to_k", (("n", "int"),), "int", lambda r: {"k": r.randint(1, 99)},
              lambda p: f"the distance between n and {p['k']} (the absolute value of n - {p['k']})",
              lambda p: src(f"""
              def distance_to_k(n):
                  return abs(n - {p['k']})
              """),
              lambda r, p: one(_ints_edges(r, p["k"])), split="val")


def _last_k_elements():
    return _F("last_k_elements", "last_k_elements", (("nums", "ints"),), "ints", lambda r: {"k": r.randint(1, 12)},
              lambda p: f"the last {p['k']} elements of nums in their order (all of nums when it has fewer)",
              lambda p: src(f"""
              def last_k_elements(nums):
                  return nums[-{p['k']}:]
              """),
              lambda r, p: _lists(r, (list(range(p["k"])), list(range(p["k"] + 1)), list(range(p["k"] - 1)))),
              split="val", twin_of=("rotate_left",))


def _min_minus_k():
    return _F("min_minus_k", "min_minus_k", (("nums", "ints"),), "int", lambda r: {"k": r.randint(1, 50)},
              lambda p: f"the smallest element of nums minus {p['k']}",
              lambda p: src(f"""
              def min_minus_k(nums):
                  return min(nums) - {p['k']}
              """),
              lambda r, p: _lists(r, min_len=1), lambda p: "nums has at least one element.", split="val",
              twin_of=("second_largest", "median"))


def _sign_times_k():
    return _F("sign_times_k", "sign_times_k", (("n", "int"),), "int", lambda r: {"k": r.randint(2, 50)},
              lambda p: f"{p['k']} when n is positive, -{p['k']} when n is negative and 0 when n is 0",
              lambda p: src(f"""
              def sign_times_k(n):
                  if n > 0:
                      return {p['k']}
                  if n < 0:
                      return -{p['k']}
                  return 0
              """),
              lambda r, p: one([0, 1, -1, p["k"], -p["k"], BIG, -BIG] + [r.randint(-100, 100) for _ in range(5)]),
              split="val", twin_of=("letter_grade",))


# ============================================================================= test
def _in_range():
    def sample(r):
        lo = r.randint(-50, 50)
        return {"lo": lo, "hi": lo + r.randint(0, 40)}

    return _F("in_range", "in_range", (("n", "int"),), "bool", sample,
              lambda p: f"{p['lo']} <= n <= {p['hi']} (n lies between {p['lo']} and {p['hi']}, both included)",
              lambda p: src(f"""
              def in_range(n):
                  return {p['lo']} <= n <= {p['hi']}
              """),
              lambda r, p: one([p["lo"], p["hi"], p["lo"] - 1, p["hi"] + 1, (p["lo"] + p["hi"]) // 2, BIG, -BIG] +
                               [r.randint(-120, 120) for _ in range(5)]),
              split="test")


def _linear_combo():
    return _F("linear_combo", "linear_combo", (("a", "int"), ("b", "int")), "int", lambda r: {"k": r.randint(2, 20)},
              lambda p: f"a multiplied by {p['k']} plus b (a * {p['k']} + b)",
              lambda p: src(f"""
              def linear_combo(a, b):
                  return a * {p['k']} + b
              """),
              lambda r, p: [(0, 0), (1, 0), (0, 1), (1, 1), (-1, 5), (p["k"], -p["k"]), (BIG, -BIG)] +
                           [(r.randint(-1000, 1000), r.randint(-1000, 1000)) for _ in range(5)],
              split="test")


def _contains_value():
    return _F("contains_value", "contains_value", (("nums", "ints"),), "bool", lambda r: {"k": r.randint(-30, 30)},
              lambda p: f"the value {p['k']} appears in nums",
              lambda p: src(f"""
              def contains_value(nums):
                  return {p['k']} in nums
              """),
              lambda r, p: _lists(r, ([p["k"]], [p["k"] + 1], [p["k"] - 1, 0, p["k"] + 1], [5, 6, p["k"]])),
              split="test")


def _first_k_chars():
    return _F("first_k_chars", "first_k_chars", (("s", "str"),), "str", lambda r: {"k": r.randint(1, 16)},
              lambda p: f"the first {p['k']} characters of s (all of s when it is shorter)",
              lambda p: src(f"""
              def first_k_chars(s):
                  return s[:{p['k']}]
              """),
              lambda r, p: one(_texts(r, ("b" * p["k"] + "c", "d" * (p["k"] - 1) + "e", word(r, p["k"])))),
              split="test")


def _char_at_k():
    return _F("char_at_k", "char_at_k", (("s", "str"),), "str", lambda r: {"k": r.randint(0, 15)},
              lambda p: f"the character at index {p['k']} of s (counting from 0), or the empty string when s has "
                        f"{p['k'] + 1} characters or fewer than that",
              lambda p: src(f"""
              def char_at_k(s):
                  if len(s) > {p['k']}:
                      return s[{p['k']}]
                  return ''
              """),
              lambda r, p: one(_texts(r, ("abcdefghijklmnopqr"[:p["k"]], "abcdefghijklmnopqr"[:p["k"] + 1],
                                  "abcdefghijklmnopqr"[:p["k"] + 2]))),
              split="test")


def _sum_first_k():
    return _F("sum_first_k", "sum_first_k", (("nums", "ints"),), "int", lambda r: {"k": r.randint(1, 16)},
              lambda p: f"the sum of the first {p['k']} elements of nums (of all of them when it has fewer)",
              lambda p: src(f"""
              def sum_first_k(nums):
                  return sum(nums[:{p['k']}])
              """),
              lambda r, p: _lists(r, ([1] * (p["k"] + 1), [2] * p["k"], [3] * max(p["k"] - 1, 0))),
              split="test")


BUILDERS = [_times_k, _plus_k, _minus_k, _square_plus_k, _is_multiple, _is_above, _repeat_text, _append_text,
            _length_plus_k, _list_times_k, _list_plus_k, _count_value, _sum_plus_k, _max_or_k, _count_letter,
            _starts_with, _length_times_k, _upper_plus,
            _floor_div_k, _cube_minus_k, _distance_to_k, _last_k_elements, _min_minus_k, _sign_times_k,
            _in_range, _linear_combo, _contains_value, _first_k_chars, _char_at_k, _sum_first_k]
