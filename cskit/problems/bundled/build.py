"""Build ``cskit/problems/bundled/problems.jsonl``: the kit's own EASY problems (written for the kit).

Small enough that a 135M-parameter instruct model solves some of them. Each problem has tests, one
reference solution and >= 2 subtly wrong solutions (most pass SOME tests: the hard negatives of the pairs
stage). Three kinds, 17 each: stdio (stdin/stdout), call (JSON args -> JSON return value), assert
(assert lines run after the candidate). Splits are by *task* (``TASK_OF`` maps a problem name to its
task, so the formats of one task -- ``stdio/count_vowels`` and ``call/count_vowels`` -- share it): the
tasks in ``VAL_TASKS`` are "val", every other task is "train". No task appears in both splits.

Run ``python -m cskit.problems.bundled.build`` (or this file) to rewrite the JSONL; the output is deterministic.
``tests/test_bundled_problems.py`` checks, through ``cskit.sandbox.grade_many``, that every reference
solution passes and every wrong solution fails at least one test.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from cskit.problems.bundled.defs import CALL, STDIO, asserts

OUT = Path(__file__).with_name("problems.jsonl")


ASSERT = [
    asserts("is_palindrome", "Write a function is_palindrome(s) that returns True if the string s reads the same "
            "forwards and backwards, ignoring upper/lower case, and False otherwise.",
            "is_palindrome", "def is_palindrome(s):\n",
            ["assert is_palindrome('racecar') == True", "assert is_palindrome('Level') == True",
             "assert is_palindrome('hello') == False", "assert is_palindrome('') == True",
             "assert is_palindrome('abba') == True"],
            "def is_palindrome(s):\n    s = s.lower()\n    return s == s[::-1]",
            "def is_palindrome(s):\n    return s == s[::-1]",
            "def is_palindrome(s):\n    s = s.lower()\n    h = len(s) // 2\n    return s[:h] == s[h:][::-1]"),
    asserts("square_list", "Write a function square_list(nums) that returns a new list with every number squared.",
            "square_list", "def square_list(nums):\n",
            ["assert square_list([1, 2, 3]) == [1, 4, 9]", "assert square_list([]) == []",
             "assert square_list([-2, 0]) == [4, 0]", "assert square_list([2]) == [4]"],
            "def square_list(nums):\n    return [x * x for x in nums]",
            "def square_list(nums):\n    return [x * 2 for x in nums]",
            "def square_list(nums):\n    return [x * x for x in nums if x]"),
    asserts("filter_even", "Write a function filter_even(nums) that returns the even numbers of nums, in order.",
            "filter_even", "def filter_even(nums):\n",
            ["assert filter_even([1, 2, 3, 4]) == [2, 4]", "assert filter_even([]) == []",
             "assert filter_even([-2, -1, 0]) == [-2, 0]", "assert filter_even([7]) == []"],
            "def filter_even(nums):\n    return [x for x in nums if x % 2 == 0]",
            "def filter_even(nums):\n    return [x for x in nums if x % 2 == 0 and x > 0]",
            "def filter_even(nums):\n    return [x for x in nums if x % 2 == 1]"),
    asserts("first_repeated_char", "Write a function first_repeated_char(s) that scans s from left to right and returns "
            "the first character that has already appeared before it, or \"\" if no character repeats. "
            "Example: first_repeated_char(\"abba\") == \"b\".",
            "first_repeated_char", "def first_repeated_char(s):\n",
            ["assert first_repeated_char('abca') == 'a'", "assert first_repeated_char('abba') == 'b'",
             "assert first_repeated_char('abc') == ''", "assert first_repeated_char('aa') == 'a'"],
            "def first_repeated_char(s):\n    seen = set()\n    for ch in s:\n        if ch in seen:\n"
            "            return ch\n        seen.add(ch)\n    return ''",
            "def first_repeated_char(s):\n    for ch in s:\n        if s.count(ch) > 1:\n            return ch\n    return ''",
            "def first_repeated_char(s):\n    seen = set()\n    for ch in s:\n        if ch in seen:\n"
            "            return ch\n        seen.add(ch)\n    return None"),
    asserts("gcd", "Write a function gcd(a, b) that returns the greatest common divisor of two non-negative integers "
            "(not both zero). gcd(0, b) is b.",
            "gcd", "def gcd(a, b):\n",
            ["assert gcd(12, 8) == 4", "assert gcd(7, 3) == 1", "assert gcd(10, 5) == 5", "assert gcd(0, 5) == 5",
             "assert gcd(5, 0) == 5", "assert gcd(9, 9) == 9"],
            "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a",
            "def gcd(a, b):\n    return min(a, b)",
            "def gcd(a, b):\n    for d in range(min(a, b), 0, -1):\n        if a % d == 0 and b % d == 0:\n"
            "            return d"),
    asserts("fizzbuzz_list", "Write a function fizzbuzz(n) that returns a list of strings for the numbers 1 to n: "
            "\"FizzBuzz\" for multiples of 15, \"Fizz\" for multiples of 3, \"Buzz\" for multiples of 5, "
            "otherwise the number as a string.",
            "fizzbuzz", "def fizzbuzz(n):\n",
            ["assert fizzbuzz(1) == ['1']", "assert fizzbuzz(5) == ['1', '2', 'Fizz', '4', 'Buzz']",
             "assert fizzbuzz(15)[-1] == 'FizzBuzz'", "assert fizzbuzz(0) == []"],
            """
            def fizzbuzz(n):
                out = []
                for i in range(1, n + 1):
                    if i % 15 == 0:
                        out.append("FizzBuzz")
                    elif i % 3 == 0:
                        out.append("Fizz")
                    elif i % 5 == 0:
                        out.append("Buzz")
                    else:
                        out.append(str(i))
                return out
            """,
            """
            def fizzbuzz(n):
                out = []
                for i in range(n):
                    if i % 15 == 0:
                        out.append("FizzBuzz")
                    elif i % 3 == 0:
                        out.append("Fizz")
                    elif i % 5 == 0:
                        out.append("Buzz")
                    else:
                        out.append(str(i))
                return out
            """,
            """
            def fizzbuzz(n):
                out = []
                for i in range(1, n + 1):
                    if i % 3 == 0:
                        out.append("Fizz")
                    elif i % 5 == 0:
                        out.append("Buzz")
                    elif i % 15 == 0:
                        out.append("FizzBuzz")
                    else:
                        out.append(str(i))
                return out
            """),
    asserts("is_prime", "Write a function is_prime(n) that returns True if the integer n is a prime number and False "
            "otherwise (0 and 1 are not prime).",
            "is_prime", "def is_prime(n):\n",
            ["assert is_prime(2) == True", "assert is_prime(1) == False", "assert is_prime(13) == True",
             "assert is_prime(9) == False", "assert is_prime(0) == False", "assert is_prime(97) == True",
             "assert is_prime(4) == False", "assert is_prime(3) == True"],
            "def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n"
            "        if n % i == 0:\n            return False\n        i += 1\n    return True",
            "def is_prime(n):\n    for i in range(2, n):\n        if n % i == 0:\n            return False\n    return True",
            "def is_prime(n):\n    if n < 2:\n        return False\n    for i in range(2, int(n ** 0.5)):\n"
            "        if n % i == 0:\n            return False\n    return True"),
    asserts("word_lengths", "Write a function word_lengths(s) that returns a list with the length of each word in s, "
            "in order. Words are separated by one or more spaces.",
            "word_lengths", "def word_lengths(s):\n",
            ["assert word_lengths('hi there') == [2, 5]", "assert word_lengths('') == []",
             "assert word_lengths('a bb ccc') == [1, 2, 3]", "assert word_lengths('  x  ') == [1]"],
            "def word_lengths(s):\n    return [len(w) for w in s.split()]",
            "def word_lengths(s):\n    return [len(w) for w in s.split(' ')]",
            "def word_lengths(s):\n    return [len(w) for w in s.split()][:2]"),
    asserts("merge_sorted", "Write a function merge_sorted(a, b) that merges two sorted lists into one sorted list "
            "(keep duplicates).",
            "merge_sorted", "def merge_sorted(a, b):\n",
            ["assert merge_sorted([1, 3], [2, 4]) == [1, 2, 3, 4]", "assert merge_sorted([], [1]) == [1]",
             "assert merge_sorted([1, 2], [3, 4]) == [1, 2, 3, 4]", "assert merge_sorted([5], []) == [5]",
             "assert merge_sorted([1, 1], [1]) == [1, 1, 1]"],
            """
            def merge_sorted(a, b):
                out, i, j = [], 0, 0
                while i < len(a) and j < len(b):
                    if a[i] <= b[j]:
                        out.append(a[i])
                        i += 1
                    else:
                        out.append(b[j])
                        j += 1
                return out + a[i:] + b[j:]
            """,
            "def merge_sorted(a, b):\n    return a + b",
            """
            def merge_sorted(a, b):
                out, i, j = [], 0, 0
                while i < len(a) and j < len(b):
                    if a[i] <= b[j]:
                        out.append(a[i])
                        i += 1
                    else:
                        out.append(b[j])
                        j += 1
                return out + a[i:]
            """),
    asserts("median", "Write a function median(nums) that returns the median of a non-empty list of numbers: the "
            "middle value after sorting, or the mean of the two middle values when the length is even.",
            "median", "def median(nums):\n",
            ["assert median([3, 1, 2]) == 2", "assert math.isclose(median([1, 2, 3, 4]), 2.5)",
             "assert median([5]) == 5", "assert math.isclose(median([4, 1]), 2.5)",
             "assert median([7, 1, 3, 5, 9]) == 5"],
            """
            def median(nums):
                s = sorted(nums)
                n = len(s)
                if n % 2:
                    return s[n // 2]
                return (s[n // 2 - 1] + s[n // 2]) / 2
            """,
            "def median(nums):\n    return sorted(nums)[len(nums) // 2]",
            """
            def median(nums):
                n = len(nums)
                if n % 2:
                    return nums[n // 2]
                return (min(nums) + max(nums)) / 2
            """,
            setup="import math"),
    asserts("running_sum", "Write a function running_sum(nums) that returns the list of running totals: element i is "
            "nums[0] + ... + nums[i].",
            "running_sum", "def running_sum(nums):\n",
            ["assert running_sum([1, 2, 3]) == [1, 3, 6]", "assert running_sum([]) == []",
             "assert running_sum([5]) == [5]", "assert running_sum([1, -1, 1]) == [1, 0, 1]"],
            "def running_sum(nums):\n    out, t = [], 0\n    for x in nums:\n        t += x\n        out.append(t)\n    return out",
            "def running_sum(nums):\n    return [sum(nums[:i]) for i in range(len(nums))]",
            "def running_sum(nums):\n    return [sum(nums[:i]) for i in range(1, len(nums))]"),
    asserts("flatten", "Write a function flatten(lists) that takes a list of lists and returns one list with all "
            "their elements, in order.",
            "flatten", "def flatten(lists):\n",
            ["assert flatten([[1, 2], [3]]) == [1, 2, 3]", "assert flatten([]) == []",
             "assert flatten([[], [4]]) == [4]", "assert flatten([[1], [2], [3]]) == [1, 2, 3]"],
            "def flatten(lists):\n    return [x for sub in lists for x in sub]",
            "def flatten(lists):\n    return [sub[0] for sub in lists]",
            "def flatten(lists):\n    return [x for sub in lists[:-1] for x in sub]"),
    asserts("digit_sum", "Write a function digit_sum(n) that returns the sum of the decimal digits of the integer n "
            "(use the absolute value when n is negative).",
            "digit_sum", "def digit_sum(n):\n",
            ["assert digit_sum(123) == 6", "assert digit_sum(0) == 0", "assert digit_sum(-45) == 9",
             "assert digit_sum(9) == 9", "assert digit_sum(1001) == 2"],
            "def digit_sum(n):\n    return sum(int(d) for d in str(abs(n)))",
            "def digit_sum(n):\n    return sum(int(d) for d in str(n))",
            "def digit_sum(n):\n    return n % 10 + n // 10"),
    asserts("rotate_left", "Write a function rotate_left(lst, k) that returns lst rotated left by k positions "
            "(k >= 0 may be larger than the length; an empty list stays empty). Example: rotate_left([1, 2, 3], 1) == [2, 3, 1].",
            "rotate_left", "def rotate_left(lst, k):\n",
            ["assert rotate_left([1, 2, 3, 4], 1) == [2, 3, 4, 1]", "assert rotate_left([1, 2, 3], 0) == [1, 2, 3]",
             "assert rotate_left([1, 2, 3], 4) == [2, 3, 1]", "assert rotate_left([], 2) == []",
             "assert rotate_left([1, 2], 2) == [1, 2]"],
            "def rotate_left(lst, k):\n    if not lst:\n        return []\n    k %= len(lst)\n    return lst[k:] + lst[:k]",
            "def rotate_left(lst, k):\n    return lst[k:] + lst[:k]",
            "def rotate_left(lst, k):\n    if not lst:\n        return []\n    k %= len(lst)\n    return lst[-k:] + lst[:-k]"),
    asserts("count_upper", "Write a function count_upper(s) that returns the number of upper-case letters in s.",
            "count_upper", "def count_upper(s):\n",
            ["assert count_upper('Hello World') == 2", "assert count_upper('abc') == 0",
             "assert count_upper('ABC') == 3", "assert count_upper('') == 0", "assert count_upper('A1 b') == 1"],
            "def count_upper(s):\n    return sum(1 for ch in s if ch.isupper())",
            "def count_upper(s):\n    return sum(1 for ch in s if not ch.islower())",
            "def count_upper(s):\n    return sum(1 for w in s.split() if w[0].isupper())"),
    asserts("safe_divide", "Write a function safe_divide(a, b) that returns a / b as a float, or None when b is 0.",
            "safe_divide", "def safe_divide(a, b):\n",
            ["assert safe_divide(6, 3) == 2.0", "assert safe_divide(1, 2) == 0.5", "assert safe_divide(5, 0) is None",
             "assert safe_divide(-6, 4) == -1.5"],
            "def safe_divide(a, b):\n    if b == 0:\n        return None\n    return a / b",
            "def safe_divide(a, b):\n    return a / b",
            "def safe_divide(a, b):\n    if b == 0:\n        return None\n    return a // b"),
    asserts("acronym", "Write a function acronym(s) that returns the upper-case first letters of the words of s. "
            "Words are separated by one or more spaces. Example: acronym(\"portable network graphics\") == \"PNG\".",
            "acronym", "def acronym(s):\n",
            ["assert acronym('portable network graphics') == 'PNG'", "assert acronym('Hello') == 'H'",
             "assert acronym('as soon as possible') == 'ASAP'", "assert acronym('  central  processing unit') == 'CPU'"],
            "def acronym(s):\n    return ''.join(w[0].upper() for w in s.split())",
            "def acronym(s):\n    return ''.join(w[0] for w in s.split())",
            "def acronym(s):\n    return ''.join(w[0].upper() for w in s.split(' '))"),
]


# problem name -> task, where one task appears under several names or formats (default: the name itself)
TASK_OF = {
    "fizzbuzz_one": "fizzbuzz", "fizzbuzz_list": "fizzbuzz",
    "palindrome_word": "palindrome", "is_palindrome": "palindrome",
    "even_or_odd": "parity", "is_even": "parity",
    "sum_two": "add", "add": "add",
}
# held-out tasks (about a quarter of the problems, at least one of each kind); all of a task's formats go here
VAL_TASKS = ("sum_to_n", "divide_two_decimals", "star_square", "second_largest",       # stdio
             "fibonacci", "capitalize_words", "letter_grade", "two_sum",               # call
             "first_repeated_char", "median", "rotate_left", "acronym", "merge_sorted")  # assert


def task_of(name: str) -> str:
    return TASK_OF.get(name, name)


def build() -> list[dict]:
    rows = []
    for group in (STDIO, CALL, ASSERT):
        for p in group:
            kind = p["kind"]
            rows.append({
                "id": f"bundled/{kind}/{p['name']}",
                "statement": p["statement"],
                "kind": kind,
                "tests": p["tests"],
                "source": "bundled",
                "entry_point": p.get("entry_point", ""),
                "starter_code": p.get("starter_code", ""),
                "setup_code": p.get("setup_code", ""),
                "solutions": p["solutions"],
                "wrong_solutions": p["wrong_solutions"],
                "split": "val" if task_of(p["name"]) in VAL_TASKS else "train",
                "time_limit": 2.0,
                "metadata": {"difficulty": "easy", "task": task_of(p["name"])},
            })
    return rows


def main(out: Path = OUT) -> Path:
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in build())
    from cskit.io import write_text

    return write_text(out, text)


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
