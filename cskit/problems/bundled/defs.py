"""Problem definitions (stdio and call kinds) of the bundled set, and the helpers that build rows.

Read by ``cskit.problems.bundled.build`` (which holds the assert-kind problems and writes the JSONL).
Each entry: a short statement, 3-12 tests, one reference solution and >= 2 subtly wrong solutions.
"""
from __future__ import annotations

import json
from textwrap import dedent


def _c(code: str) -> str:
    return dedent(code).strip("\n") + "\n"


def stdio(name, statement, tests, sol, *wrong):
    return {"name": name, "kind": "stdio", "statement": statement,
            "tests": [{"input": i if i.endswith("\n") else i + "\n", "output": o + "\n"} for i, o in tests],
            "solutions": [_c(sol)], "wrong_solutions": [_c(w) for w in wrong]}


def call(name, statement, entry, starter, tests, sol, *wrong):
    return {"name": name, "kind": "call", "statement": statement, "entry_point": entry, "starter_code": starter,
            "tests": [{"input": "\n".join(json.dumps(a) for a in args), "output": json.dumps(out)} for args, out in tests],
            "solutions": [_c(sol)], "wrong_solutions": [_c(w) for w in wrong]}


def asserts(name, statement, entry, starter, lines, sol, *wrong, setup=""):
    return {"name": name, "kind": "assert", "statement": statement, "entry_point": entry, "starter_code": starter,
            "setup_code": setup, "tests": [{"input": line + "\n", "output": ""} for line in lines],
            "solutions": [_c(sol)], "wrong_solutions": [_c(w) for w in wrong]}


STDIO = [
    stdio("double", "Read an integer n from standard input and print n * 2.",
          [("2", "4"), ("0", "0"), ("5", "10"), ("-3", "-6")],
          "n = int(input())\nprint(n * 2)",
          "n = int(input())\nprint(n + 2)",
          "n = int(input())\nprint(n * n)"),
    stdio("sum_two", "Read two integers a and b on one line, separated by a space, and print their sum.",
          [("1 2", "3"), ("5 0", "5"), ("-4 4", "0"), ("10 20", "30")],
          "a, b = map(int, input().split())\nprint(a + b)",
          "a, b = map(int, input().split())\nprint(a - b)",
          "a, b = map(int, input().split())\nprint(abs(a) + abs(b))"),
    stdio("reverse_string", "Read one line of text and print it reversed.",
          [("abc", "cba"), ("racecar", "racecar"), ("a", "a"), ("hello world", "dlrow olleh")],
          "s = input()\nprint(s[::-1])",
          "s = input()\nprint(s)",
          "s = input()\nprint(' '.join(s.split()[::-1]))"),
    stdio("count_vowels", "Read one line of text and print how many vowels (a, e, i, o, u, upper or lower case) it contains.",
          [("hello", "2"), ("sky", "0"), ("AEIOU", "5"), ("Programming", "3")],
          "s = input()\nprint(sum(1 for ch in s.lower() if ch in 'aeiou'))",
          "s = input()\nprint(sum(1 for ch in s if ch in 'aeiou'))",
          "s = input()\nprint(sum(1 for ch in s.lower() if ch in 'aeiouy'))"),
    stdio("max_of_list", "The first line holds n, the second line n integers separated by spaces. Print the largest of them.",
          [("3\n1 5 2", "5"), ("1\n7", "7"), ("4\n-3 -1 -7 -2", "-1"), ("5\n1 2 3 4 9", "9")],
          "n = int(input())\nnums = list(map(int, input().split()))\nprint(max(nums))",
          """
          n = int(input())
          nums = list(map(int, input().split()))
          best = 0
          for x in nums:
              if x > best:
                  best = x
          print(best)
          """,
          "n = int(input())\nnums = list(map(int, input().split()))\nprint(nums[-1])"),
    stdio("sum_to_n", "Read an integer n (n >= 0) and print 1 + 2 + ... + n (print 0 when n is 0).",
          [("1", "1"), ("5", "15"), ("0", "0"), ("10", "55"), ("100", "5050")],
          "n = int(input())\nprint(n * (n + 1) // 2)",
          "n = int(input())\nprint(sum(range(1, n)))",
          "n = int(input())\nprint(n * n // 2)"),
    stdio("even_or_odd", "Read an integer n and print \"even\" if it is even, otherwise \"odd\".",
          [("4", "even"), ("7", "odd"), ("0", "even"), ("-3", "odd"), ("6", "even")],
          "n = int(input())\nprint('even' if n % 2 == 0 else 'odd')",
          "n = int(input())\nprint('odd' if n % 2 == 1 and n > 0 else 'even')",
          "n = int(input())\nprint('even' if n % 4 == 0 else 'odd')"),
    stdio("fizzbuzz_one", "Read a positive integer n. Print \"FizzBuzz\" if n is divisible by 15, \"Fizz\" if by 3, "
          "\"Buzz\" if by 5, and otherwise n itself.",
          [("3", "Fizz"), ("5", "Buzz"), ("15", "FizzBuzz"), ("7", "7"), ("30", "FizzBuzz")],
          """
          n = int(input())
          if n % 15 == 0:
              print("FizzBuzz")
          elif n % 3 == 0:
              print("Fizz")
          elif n % 5 == 0:
              print("Buzz")
          else:
              print(n)
          """,
          """
          n = int(input())
          if n % 3 == 0:
              print("Fizz")
          elif n % 5 == 0:
              print("Buzz")
          elif n % 15 == 0:
              print("FizzBuzz")
          else:
              print(n)
          """,
          """
          n = int(input())
          if n % 15 == 0:
              print("FizzBuzz")
          elif n % 3 == 0:
              print("Fizz")
          else:
              print(n)
          """),
    stdio("count_words", "Read one line of text and print the number of words in it (words are separated by one or more spaces).",
          [("hello world", "2"), ("one", "1"), ("  many   spaces here ", "3"), ("a b c", "3")],
          "print(len(input().split()))",
          "s = input()\nprint(s.count(' ') + 1)",
          "print(len([w for w in input().split() if len(w) > 1]))"),
    stdio("min_and_max", "Read one line of integers separated by spaces. Print the smallest and the largest, separated by a space.",
          [("3 1 2", "1 3"), ("5", "5 5"), ("9 10 2", "2 10"), ("1 2 3 4", "1 4"), ("-5 0 5", "-5 5")],
          "nums = list(map(int, input().split()))\nprint(min(nums), max(nums))",
          "nums = input().split()\nprint(min(nums), max(nums))",
          "nums = list(map(int, input().split()))\nprint(nums[0], nums[-1])"),
    stdio("factorial", "Read an integer n (0 <= n <= 12) and print n! (the product 1 * 2 * ... * n; 0! is 1).",
          [("0", "1"), ("1", "1"), ("5", "120"), ("10", "3628800")],
          """
          n = int(input())
          r = 1
          for i in range(2, n + 1):
              r *= i
          print(r)
          """,
          """
          n = int(input())
          r = 1
          for i in range(1, n):
              r *= i
          print(r)
          """,
          """
          n = int(input())
          r = 1
          for i in range(1, n + 1):
              r *= i
          print(0 if n == 0 else r)
          """),
    stdio("divide_two_decimals", "Read two positive integers a and b on one line. Print a / b rounded to 2 decimal places, "
          "always with exactly two digits after the point (for example 0.50).",
          [("1 2", "0.50"), ("2 3", "0.67"), ("7 2", "3.50"), ("10 5", "2.00"), ("1 3", "0.33")],
          "a, b = map(int, input().split())\nprint(f'{a / b:.2f}')",
          "a, b = map(int, input().split())\nprint(f'{int(a / b * 100) / 100:.2f}')",
          "a, b = map(int, input().split())\nprint(f'{a // b:.2f}')"),
    stdio("last_digit", "Read an integer n (it may be negative) and print the last digit of its absolute value.",
          [("123", "3"), ("-17", "7"), ("0", "0"), ("5", "5"), ("1000", "0")],
          "n = int(input())\nprint(abs(n) % 10)",
          "n = int(input())\nprint(n % 10)",
          "n = int(input())\nprint(abs(n) // 10 % 10)"),
    stdio("count_char", "The first line is a string s, the second line a single character c. Print how many times c "
          "occurs in s (case-sensitive).",
          [("banana\na", "3"), ("Apple\na", "0"), ("aaa\na", "3"), ("xyz\nq", "0"), ("Mississippi\ns", "4")],
          "s = input()\nc = input()\nprint(s.count(c))",
          "s = input()\nc = input()\nprint(s.lower().count(c.lower()))",
          "s = input()\nc = input()\nprint(s[1:].count(c))"),
    stdio("star_square", "Read a positive integer n and print a square of stars: n lines, each with n '*' characters.",
          [("1", "*"), ("2", "**\n**"), ("3", "***\n***\n***"), ("4", "****\n****\n****\n****")],
          "n = int(input())\nfor _ in range(n):\n    print('*' * n)",
          "n = int(input())\nfor i in range(n):\n    print('*' * (i + 1))",
          "n = int(input())\nfor _ in range(n):\n    print('*' * n, end='')\nprint()"),
    stdio("second_largest", "Read one line of integers separated by spaces (at least two different values). "
          "Print the second largest distinct value.",
          [("1 2 3", "2"), ("5 5 4", "4"), ("10 20", "10"), ("7 3 9 9 1", "7")],
          "nums = sorted(set(map(int, input().split())))\nprint(nums[-2])",
          "nums = sorted(map(int, input().split()))\nprint(nums[-2])",
          "nums = sorted(map(int, input().split()))\nprint(nums[1])"),
    stdio("palindrome_word", "Read one word and print YES if it reads the same forwards and backwards ignoring "
          "upper/lower case, otherwise NO.",
          [("level", "YES"), ("Level", "YES"), ("hello", "NO"), ("abca", "NO"), ("x", "YES")],
          "s = input().strip().lower()\nprint('YES' if s == s[::-1] else 'NO')",
          "s = input().strip()\nprint('YES' if s == s[::-1] else 'NO')",
          "s = input().strip().lower()\nprint('YES' if s[0] == s[-1] else 'NO')"),
]

CALL = [
    call("add", "Write a function add(a, b) that returns the sum of the two integers a and b.",
         "add", "def add(a, b):\n",
         [((1, 2), 3), ((0, 0), 0), ((-5, 3), -2), ((10, 0), 10), ((-1, -1), -2)],
         "def add(a, b):\n    return a + b",
         "def add(a, b):\n    return a - b",
         "def add(a, b):\n    return abs(a) + abs(b)"),
    call("reverse_string", "Write a function reverse_string(s) that returns the string s reversed.",
         "reverse_string", "def reverse_string(s):\n",
         [(("abc",), "cba"), (("",), ""), (("a",), "a"), (("hello",), "olleh"), (("ab",), "ba")],
         "def reverse_string(s):\n    return s[::-1]",
         "def reverse_string(s):\n    return ''.join(sorted(s, reverse=True))",
         "def reverse_string(s):\n    return s[-1:0:-1]"),
    call("count_vowels", "Write a function count_vowels(s) that returns how many vowels (a, e, i, o, u, upper or "
         "lower case) the string s contains.",
         "count_vowels", "def count_vowels(s):\n",
         [(("hello",), 2), (("AEIOU",), 5), (("rhythm",), 0), (("",), 0), (("Yay",), 1)],
         "def count_vowels(s):\n    return sum(1 for ch in s.lower() if ch in 'aeiou')",
         "def count_vowels(s):\n    return sum(1 for ch in s if ch in 'aeiou')",
         "def count_vowels(s):\n    return sum(1 for ch in s.lower() if ch in 'aeiouy')"),
    call("max_of_list", "Write a function max_of_list(nums) that returns the largest number in the non-empty list nums.",
         "max_of_list", "def max_of_list(nums):\n",
         [(([1, 5, 2],), 5), (([-3, -1, -7],), -1), (([4],), 4), (([2, 9, 9, 3],), 9)],
         "def max_of_list(nums):\n    return max(nums)",
         """
         def max_of_list(nums):
             best = 0
             for x in nums:
                 if x > best:
                     best = x
             return best
         """,
         "def max_of_list(nums):\n    return nums[-1]"),
    call("sum_list", "Write a function sum_list(nums) that returns the sum of the numbers in the list nums "
         "(0 for an empty list).",
         "sum_list", "def sum_list(nums):\n",
         [(([1, 2, 3],), 6), (([],), 0), (([0, 5],), 5), (([-1, -2],), -3), (([10],), 10)],
         "def sum_list(nums):\n    return sum(nums)",
         "def sum_list(nums):\n    return sum(nums[1:])",
         "def sum_list(nums):\n    return sum(x for x in nums if x > 0)"),
    call("average", "Write a function average(nums) that returns the mean of the numbers in nums as a float, "
         "or 0.0 if the list is empty.",
         "average", "def average(nums):\n",
         [(([1, 2, 3],), 2.0), (([1, 2],), 1.5), (([],), 0.0), (([5],), 5.0)],
         "def average(nums):\n    if not nums:\n        return 0.0\n    return sum(nums) / len(nums)",
         "def average(nums):\n    if not nums:\n        return 0.0\n    return sum(nums) // len(nums)",
         "def average(nums):\n    return sum(nums) / len(nums)"),
    call("is_even", "Write a function is_even(n) that returns True if the integer n is even and False otherwise.",
         "is_even", "def is_even(n):\n",
         [((4,), True), ((7,), False), ((0,), True), ((-2,), True), ((-3,), False), ((6,), True)],
         "def is_even(n):\n    return n % 2 == 0",
         "def is_even(n):\n    return n % 4 == 0",
         "def is_even(n):\n    return n > 0 and n % 2 == 0"),
    call("factorial", "Write a function factorial(n) that returns n! for an integer n >= 0 (0! is 1).",
         "factorial", "def factorial(n):\n",
         [((0,), 1), ((1,), 1), ((5,), 120), ((6,), 720)],
         "def factorial(n):\n    r = 1\n    for i in range(2, n + 1):\n        r *= i\n    return r",
         "def factorial(n):\n    r = 1\n    for i in range(1, n):\n        r *= i\n    return r",
         "def factorial(n):\n    if n <= 1:\n        return n\n    return n * factorial(n - 1)"),
    call("fibonacci", "Write a function fibonacci(n) that returns the n-th Fibonacci number, where fibonacci(0) = 0, "
         "fibonacci(1) = 1 and each next number is the sum of the two before it.",
         "fibonacci", "def fibonacci(n):\n",
         [((0,), 0), ((1,), 1), ((2,), 1), ((7,), 13), ((10,), 55)],
         "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
         "def fibonacci(n):\n    a, b = 1, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
         "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n - 1):\n        a, b = b, a + b\n    return a"),
    call("count_words", "Write a function count_words(s) that returns the number of words in the string s "
         "(words are separated by one or more spaces; an empty string has 0 words).",
         "count_words", "def count_words(s):\n",
         [(("hello world",), 2), (("",), 0), (("one",), 1), (("a  b",), 2), (("r2 d2",), 2)],
         "def count_words(s):\n    return len(s.split())",
         "def count_words(s):\n    return len(s.split(' '))",
         "def count_words(s):\n    return sum(1 for w in s.split() if w.isalpha())"),
    call("capitalize_words", "Write a function capitalize_words(s) that makes the first letter of every word in s "
         "upper case and leaves all other letters unchanged. Words are separated by single spaces.",
         "capitalize_words", "def capitalize_words(s):\n",
         [(("hello world",), "Hello World"), (("a",), "A"), (("python is fun",), "Python Is Fun"),
          (("mIxEd case",), "MIxEd Case")],
         "def capitalize_words(s):\n    return ' '.join(w[:1].upper() + w[1:] for w in s.split(' '))",
         "def capitalize_words(s):\n    return s.capitalize()",
         "def capitalize_words(s):\n    return s.title()"),
    call("remove_duplicates", "Write a function remove_duplicates(nums) that returns a new list with repeated values "
         "removed, keeping the first occurrence of each value in the original order.",
         "remove_duplicates", "def remove_duplicates(nums):\n",
         [(([1, 2, 2, 3],), [1, 2, 3]), (([3, 1, 3, 2],), [3, 1, 2]), (([],), []), (([5, 5, 5],), [5])],
         "def remove_duplicates(nums):\n    seen = set()\n    out = []\n    for x in nums:\n        if x not in seen:\n"
         "            seen.add(x)\n            out.append(x)\n    return out",
         "def remove_duplicates(nums):\n    return sorted(set(nums))",
         """
         def remove_duplicates(nums):
             out = []
             for x in nums:
                 if not out or out[-1] != x:
                     out.append(x)
             return out
         """),
    call("clamp", "Write a function clamp(x, lo, hi) that returns x limited to the range [lo, hi]: lo if x < lo, "
         "hi if x > hi, otherwise x.",
         "clamp", "def clamp(x, lo, hi):\n",
         [((5, 0, 10), 5), ((-3, 0, 10), 0), ((15, 0, 10), 10), ((10, 0, 10), 10)],
         "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))",
         "def clamp(x, lo, hi):\n    return min(x, hi)",
         "def clamp(x, lo, hi):\n    return max(lo, min(x, hi - 1))"),
    call("count_positive", "Write a function count_positive(nums) that returns how many numbers in nums are "
         "strictly greater than zero.",
         "count_positive", "def count_positive(nums):\n",
         [(([1, -2, 3],), 2), (([0, 0],), 0), (([],), 0), (([-1, -5],), 0), (([4, 0, -4, 7],), 2)],
         "def count_positive(nums):\n    return sum(1 for x in nums if x > 0)",
         "def count_positive(nums):\n    return sum(1 for x in nums if x >= 0)",
         "def count_positive(nums):\n    return sum(1 for x in nums if x != 0)"),
    call("letter_grade", "Write a function letter_grade(score) for an integer score from 0 to 100 that returns "
         "\"A\" for 90 or more, \"B\" for 80-89, \"C\" for 70-79, \"D\" for 60-69 and \"F\" below 60.",
         "letter_grade", "def letter_grade(score):\n",
         [((95,), "A"), ((90,), "A"), ((89,), "B"), ((80,), "B"), ((79,), "C"), ((70,), "C"), ((69,), "D"),
          ((60,), "D"), ((59,), "F"), ((0,), "F")],
         """
         def letter_grade(score):
             if score >= 90:
                 return "A"
             if score >= 80:
                 return "B"
             if score >= 70:
                 return "C"
             if score >= 60:
                 return "D"
             return "F"
         """,
         """
         def letter_grade(score):
             if score > 90:
                 return "A"
             if score > 80:
                 return "B"
             if score > 70:
                 return "C"
             if score > 60:
                 return "D"
             return "F"
         """,
         """
         def letter_grade(score):
             if score >= 90:
                 return "A"
             if score >= 80:
                 return "B"
             if score >= 70:
                 return "C"
             return "F"
         """),
    call("round_half_up", "Write a function round_half_up(x) that rounds a non-negative number x to the nearest "
         "integer, rounding halves up (2.5 -> 3), and returns an int.",
         "round_half_up", "def round_half_up(x):\n",
         [((2.4,), 2), ((2.5,), 3), ((3.5,), 4), ((0.0,), 0), ((7.9,), 8)],
         "import math\n\ndef round_half_up(x):\n    return int(math.floor(x + 0.5))",
         "def round_half_up(x):\n    return round(x)",
         "def round_half_up(x):\n    return int(x)"),
    call("two_sum", "Given a list of integers nums and an integer target, return the indices [i, j] (i < j) of the "
         "two different elements that add up to target. Exactly one answer exists. Implement it as the method "
         "twoSum of class Solution.",
         "twoSum", "class Solution:\n    def twoSum(self, nums: list[int], target: int) -> list[int]:\n",
         [(([2, 7, 11, 15], 9), [0, 1]), (([3, 2, 4], 6), [1, 2]), (([3, 3], 6), [0, 1]), (([0, 1, 5], 1), [0, 1])],
         """
         class Solution:
             def twoSum(self, nums: list[int], target: int) -> list[int]:
                 seen = {}
                 for j, x in enumerate(nums):
                     if target - x in seen:
                         return [seen[target - x], j]
                     seen[x] = j
                 return []
         """,
         """
         class Solution:
             def twoSum(self, nums: list[int], target: int) -> list[int]:
                 for i in range(len(nums)):
                     for j in range(i, len(nums)):
                         if nums[i] + nums[j] == target:
                             return [i, j]
                 return []
         """,
         """
         class Solution:
             def twoSum(self, nums: list[int], target: int) -> list[int]:
                 for i in range(len(nums)):
                     for j in range(i + 1, len(nums)):
                         if nums[i] + nums[j] == target:
                             return [nums[i], nums[j]]
                 return []
         """),
]
