"""The procedural problem families: statement template, parameter sampler, reference solution, input generator.

A family is one *task* with parameters (a threshold, a character, a divisor ...) that change its behaviour.
Its reference is a plain Python function ``fn(*args)`` (source text, parameters baked in as constants);
``cskit.problems.procedural`` turns it into stdio / call / assert problems. Argument types:
``int``, ``str`` (one line of text, may be empty), ``ints`` (a list of integers, possibly empty).
Return types: ``int``, ``str``, ``bool``, ``ints``.

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


def _src(s: str) -> str:
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
def _count_char():
    def sample(r):
        return {"c": r.choice(LETTERS), "ci": r.random() < 0.5}

    def what(p):
        return (f"how many times the letter '{p['c']}' occurs in s" +
                (", counting upper and lower case alike" if p["ci"] else " (case-sensitive: only the lower-case letter counts)"))

    def code(p):
        if p["ci"]:
            return _src(f"""
            def count_letter(s):
                n = 0
                for ch in s.lower():
                    if ch == {p['c']!r}:
                        n += 1
                return n
            """)
        return _src(f"""
        def count_letter(s):
            n = 0
            for ch in s:
                if ch == {p['c']!r}:
                    n += 1
            return n
        """)

    def gen(r, p):
        c, C = p["c"], p["c"].upper()
        edges = ["", c, C, c * 5, f"x{C}y{c}", "no match here" if c not in "no match here" else "qqq", f"{c} {c}{C}{c}"]
        return one(edges + mixed_text(r, 8, c + C))

    return Family("count_char", "count_letter", (("s", "str"),), "int", sample, what, code, gen,
                  twin_of=("count_char",))


def _replace_char():
    def sample(r):
        a, b = r.sample(LETTERS, 2)
        return {"a": a, "b": b}

    def what(p):
        return f"the string s with every lower-case '{p['a']}' replaced by '{p['b']}' (other characters unchanged)"

    def code(p):
        return _src(f"""
        def replace_letter(s):
            out = []
            for ch in s:
                if ch == {p['a']!r}:
                    out.append({p['b']!r})
                else:
                    out.append(ch)
            return ''.join(out)
        """)

    def gen(r, p):
        a = p["a"]
        return one(["", a, a.upper(), a * 4, f"x{a}y{p['b']}", "hello world"] + mixed_text(r, 8, a))

    return Family("replace_char", "replace_letter", (("s", "str"),), "str", sample, what, code, gen)


def _longest_run():
    def sample(r):
        return {"c": r.choice(LETTERS)}

    def what(p):
        return f"the length of the longest block of consecutive '{p['c']}' characters in s (0 if there is none)"

    def code(p):
        return _src(f"""
        def longest_run(s):
            best = 0
            cur = 0
            for ch in s:
                if ch == {p['c']!r}:
                    cur += 1
                    if cur > best:
                        best = cur
                else:
                    cur = 0
            return best
        """)

    def gen(r, p):
        c = p["c"]
        edges = ["", c, "q", c * 6, f"{c}{c}q{c}{c}{c}", f"{c}{c}{c}q{c}", f"q{c}q{c}{c}q", c.upper() * 3 + c]
        return one(edges + [word(r, r.randint(0, 15), c + c + "qw") for _ in range(8)])

    return Family("longest_run", "longest_run", (("s", "str"),), "int", sample, what, code, gen, split="test")


def _caesar():
    def sample(r):
        return {"k": r.randint(1, 25)}

    def what(p):
        return (f"s with every lower-case letter shifted {p['k']} places forward in the alphabet, wrapping from 'z' "
                "back to 'a'; all other characters stay unchanged")

    def code(p):
        return _src(f"""
        def shift_letters(s):
            out = []
            for ch in s:
                if 'a' <= ch <= 'z':
                    out.append(chr((ord(ch) - ord('a') + {p['k']}) % 26 + ord('a')))
                else:
                    out.append(ch)
            return ''.join(out)
        """)

    def gen(r, p):
        edges = ["", "a", "z", "xyz abc", "Hello, World!", LETTERS, "A-Z 09", "`{"]
        return one(edges + [word(r, r.randint(1, 12), LETTERS + " .Z") for _ in range(6)])

    return Family("caesar_shift", "shift_letters", (("s", "str"),), "str", sample, what, code, gen, split="val")


def _every_kth():
    def sample(r):
        return {"k": r.randint(2, 5), "start": r.randint(0, 2)}

    def what(p):
        return (f"the string made of the characters of s at positions {p['start']}, {p['start'] + p['k']}, "
                f"{p['start'] + 2 * p['k']}, ... (0-based, every {ordinal(p['k'])} character)")

    def code(p):
        return _src(f"""
        def every_kth(s):
            out = ''
            i = {p['start']}
            while i < len(s):
                out += s[i]
                i += {p['k']}
            return out
        """)

    def gen(r, p):
        n = p["start"] + p["k"]
        edges = ["", "a", LETTERS[:n], LETTERS[:n + 1], LETTERS[:n - 1], LETTERS, "ab"]
        return one(edges + [word(r, r.randint(0, 20)) for _ in range(6)])

    return Family("every_kth_char", "every_kth", (("s", "str"),), "str", sample, what, code, gen)


def _count_words_len():
    def sample(r):
        return {"L": r.randint(2, 6), "mode": r.choice(["at least", "at most"])}

    def what(p):
        return (f"the number of words in s that have {p['mode']} {p['L']} letters "
                "(words are separated by one or more spaces)")

    def code(p):
        op = ">=" if p["mode"] == "at least" else "<="
        return _src(f"""
        def count_words_len(s):
            n = 0
            for w in s.split():
                if len(w) {op} {p['L']}:
                    n += 1
            return n
        """)

    def gen(r, p):
        L = p["L"]
        edges = ["", "   ", "a" * L, "a" * (L - 1), "a" * (L + 1), f"{'b' * L}  {'c' * (L + 1)} {'d' * (L - 1)}",
                 "x " * 5]
        return one(edges + [sentence(r, r.randint(0, 6), maxlen=L + 3) for _ in range(6)])

    return Family("count_words_len", "count_words_len", (("s", "str"),), "int", sample, what, code, gen,
                  twin_of=("count_words",))


def _words_starting():
    def sample(r):
        return {"c": r.choice(LETTERS)}

    def what(p):
        return f"how many words of s start with the lower-case letter '{p['c']}' (words are separated by spaces)"

    def code(p):
        return _src(f"""
        def count_starting(s):
            n = 0
            for w in s.split():
                if w[0] == {p['c']!r}:
                    n += 1
            return n
        """)

    def gen(r, p):
        c = p["c"]
        edges = ["", c, c.upper() + "x", f"{c}a x{c} {c}{c}", "  ", f"{c} {c} {c}", "zzz yy"]
        return one(edges + [sentence(r, r.randint(0, 6), alphabet=c + "xyz") for _ in range(6)])

    return Family("words_starting_with", "count_starting", (("s", "str"),), "int", sample, what, code, gen)


def _strip_chars():
    def sample(r):
        return {"cs": "".join(sorted(r.sample("aeioustxyz", r.randint(2, 3))))}

    def what(p):
        return "s with every occurrence of the characters " + ", ".join(f"'{c}'" for c in p["cs"]) + " removed"

    def code(p):
        return _src(f"""
        def strip_chars(s):
            out = ''
            for ch in s:
                if ch not in {p['cs']!r}:
                    out += ch
            return out
        """)

    def gen(r, p):
        cs = p["cs"]
        edges = ["", cs, cs[0] * 3, "bcd", cs.upper(), f"b{cs}b"]
        return one(edges + [word(r, r.randint(0, 12), cs + "bcdk ") for _ in range(7)])

    return Family("strip_chars", "strip_chars", (("s", "str"),), "str", sample, what, code, gen)


def _pad_left():
    def sample(r):
        return {"c": r.choice("*#0.-"), "w": r.randint(3, 9)}

    def what(p):
        return (f"s padded on the left with '{p['c']}' characters to length {p['w']} "
                f"(s unchanged when it already has {p['w']} or more characters)")

    def code(p):
        return _src(f"""
        def pad_left(s):
            while len(s) < {p['w']}:
                s = {p['c']!r} + s
            return s
        """)

    def gen(r, p):
        w = p["w"]
        edges = ["", "a", "b" * (w - 1), "b" * w, "b" * (w + 1), "x" * (2 * w)]
        return one(edges + [word(r, r.randint(1, w + 2)) for _ in range(6)])

    return Family("pad_left", "pad_left", (("s", "str"),), "str", sample, what, code, gen)


def _rle():
    def sample(r):
        return {"min_run": r.randint(1, 4)}

    def what(p):
        m = p["min_run"]
        return ("the run-length encoding of s: each maximal block of equal characters becomes the character followed "
                "by the block's length" + (f", except that blocks shorter than {m} are copied unchanged" if m > 1 else
                                           " (blocks of length 1 too)"))

    def code(p):
        return _src(f"""
        def encode_runs(s):
            out = ''
            i = 0
            while i < len(s):
                j = i
                while j < len(s) and s[j] == s[i]:
                    j += 1
                if j - i >= {p['min_run']}:
                    out += s[i] + str(j - i)
                else:
                    out += s[i:j]
                i = j
            return out
        """)

    def gen(r, p):
        edges = ["", "a", "aa", "aaa", "abc", "aabbbcccc", "abba", "zzzzzzzzzzzz"]
        return one(edges + [word(r, r.randint(1, 14), "aab") for _ in range(6)])

    return Family("run_length_encode", "encode_runs", (("s", "str"),), "str", sample, what, code, gen)


def _palindrome_without():
    def sample(r):
        return {"c": r.choice(LETTERS[2:])}

    def what(p):
        return f"s reads the same forwards and backwards after every '{p['c']}' is removed from it"

    def code(p):
        return _src(f"""
        def is_pal_without(s):
            t = s.replace({p['c']!r}, '')
            i = 0
            j = len(t) - 1
            while i < j:
                if t[i] != t[j]:
                    return False
                i += 1
                j -= 1
            return True
        """)

    def gen(r, p):
        c = p["c"]
        edges = ["", c, "ab", f"a{c}a", f"ab{c}a", f"{c}ab{c}ba", "abca", "abcba", f"abc{c}{c}cba", "aab"]
        pals = []
        for _ in range(6):
            h = word(r, r.randint(0, 4), "ab" + c)
            pals.append(h + word(r, r.randint(0, 1), "ab") + h[::-1] if r.random() < 0.6 else word(r, 5, "ab" + c))
        return one(edges + pals)

    return Family("palindrome_without", "is_pal_without", (("s", "str"),), "bool", sample, what, code, gen,
                  twin_of=("palindrome",))


def _digit_chars_sum():
    def sample(r):
        return {"t": r.randint(0, 6)}

    def what(p):
        return f"the sum of the digit characters of s whose value is greater than {p['t']} (other characters are ignored)"

    def code(p):
        return _src(f"""
        def sum_digits_over(s):
            total = 0
            for ch in s:
                if ch.isdigit() and int(ch) > {p['t']}:
                    total += int(ch)
            return total
        """)

    def gen(r, p):
        t = p["t"]
        edges = ["", "abc", str(t), str(t + 1), "9a9", "0123456789", f"{t}{t + 1}{t}"]
        return one(edges + [word(r, r.randint(0, 10), "0123456789ab ") for _ in range(7)])

    return Family("sum_digit_chars", "sum_digits_over", (("s", "str"),), "int", sample, what, code, gen)


def _count_substring():
    def sample(r):
        return {"pat": word(r, r.randint(2, 3), "ab"), "overlap": r.random() < 0.5}

    def what(p):
        return (f"the number of {'(possibly overlapping)' if p['overlap'] else 'non-overlapping'} occurrences of "
                f"'{p['pat']}' in s" + ("" if p["overlap"] else ", scanning from left to right"))

    def code(p):
        step = "1" if p["overlap"] else f"{len(p['pat'])}"
        return _src(f"""
        def count_pattern(s):
            n = 0
            i = 0
            while i <= len(s) - {len(p['pat'])}:
                if s[i:i + {len(p['pat'])}] == {p['pat']!r}:
                    n += 1
                    i += {step}
                else:
                    i += 1
            return n
        """)

    def gen(r, p):
        pat = p["pat"]
        edges = ["", pat, pat[:-1], pat * 3, pat + pat[-1] + pat, pat[0] * 6, "c" + pat + "c", pat + pat[1:] + pat[1:]]
        return one(edges + [word(r, r.randint(0, 14), "ab") for _ in range(6)])

    return Family("count_substring", "count_pattern", (("s", "str"),), "int", sample, what, code, gen)


def _bracket_depth():
    def sample(r):
        return {"br": r.choice(["()", "[]", "{}"])}

    def what(p):
        o, c = p["br"]
        return (f"the maximum nesting depth of the '{o}' '{c}' brackets in s, or -1 if they are not balanced "
                "(other characters are ignored; a string without brackets has depth 0)")

    def code(p):
        o, c = p["br"]
        return _src(f"""
        def max_depth(s):
            depth = 0
            best = 0
            for ch in s:
                if ch == {o!r}:
                    depth += 1
                    if depth > best:
                        best = depth
                elif ch == {c!r}:
                    depth -= 1
                    if depth < 0:
                        return -1
            if depth != 0:
                return -1
            return best
        """)

    def gen(r, p):
        o, c = p["br"]
        edges = ["", "abc", o + c, c + o, o, c, o + o + c + c + o + c, o + "a" + o + "b" + c + c, o + c + c + o,
                 o * 3 + c * 2, "x" + o * 4 + c * 4 + "y"]
        return one(edges + [word(r, r.randint(0, 10), o + c + o + c + "a") for _ in range(6)])

    return Family("bracket_depth", "max_depth", (("s", "str"),), "int", sample, what, code, gen, split="test")


def _parse_kv():
    def sample(r):
        return {"key": r.choice(["a", "b", "x", "id", "n", "k", "cnt", "v", "w", "pts"]), "sep": r.choice([",", ";", "&"])}

    def what(p):
        return (f"the sum of the values of key '{p['key']}' in s, a list of key=value pairs separated by "
                f"'{p['sep']}' (values are integers, possibly negative; keys may repeat; 0 when the key is absent "
                "or s is empty)")

    def code(p):
        return _src(f"""
        def sum_key(s):
            total = 0
            if not s:
                return 0
            for part in s.split({p['sep']!r}):
                k, v = part.split('=')
                if k == {p['key']!r}:
                    total += int(v)
            return total
        """)

    def gen(r, p):
        k, sep = p["key"], p["sep"]
        other = "q" if k != "q" else "z"

        def mk(n):
            return sep.join(f"{r.choice([k, other, k + 'x'])}={r.randint(-50, 50)}" for _ in range(n))

        edges = ["", f"{k}=5", f"{other}=5", f"{k}=-3{sep}{k}=4", f"{k}=0", f"{k}x=7{sep}{k}=1", f"{k}={BIG}{sep}{k}=1"]
        return one(edges + [mk(r.randint(1, 6)) for _ in range(6)])

    return Family("parse_kv_sum", "sum_key", (("s", "str"),), "int", sample, what, code, gen, split="test")


def _top_word():
    def sample(r):
        return {"tie": r.choice(["first", "alpha"])}

    def what(p):
        tie = ("the one that occurs first in s" if p["tie"] == "first" else "the alphabetically smallest one")
        return (f"the word occurring most often in s (words are separated by spaces, s has at least one word); "
                f"on a tie, {tie}")

    def code(p):
        if p["tie"] == "first":
            return _src("""
            def top_word(s):
                words = s.split()
                best = words[0]
                for w in words:
                    if words.count(w) > words.count(best):
                        best = w
                return best
            """)
        return _src("""
        def top_word(s):
            words = s.split()
            best = words[0]
            for w in words:
                if words.count(w) > words.count(best) or (words.count(w) == words.count(best) and w < best):
                    best = w
            return best
        """)

    def gen(r, p):
        edges = ["a", "b a", "a b b", "b a a b", "x y z", "c b a b c", "dog cat cat dog", "z z y y x"]
        return one(edges + [sentence(r, r.randint(1, 8), "abc", 2) for _ in range(6)])

    return Family("most_common_word", "top_word", (("s", "str"),), "str", sample, what, code, gen)


# ============================================================================= list families
def _kth_smallest():
    def sample(r):
        return {"k": r.randint(1, 4), "distinct": r.random() < 0.5}

    def what(p):
        return (f"the {ordinal(p['k'])} smallest " + ("distinct value" if p["distinct"] else "value (duplicates count)") +
                " in nums")

    def constraints(p):
        return f"nums holds at least {p['k']} {'distinct ' if p['distinct'] else ''}values."

    def code(p):
        if p["distinct"]:
            return _src(f"""
            def kth_smallest(nums):
                vals = sorted(set(nums))
                return vals[{p['k'] - 1}]
            """)
        return _src(f"""
        def kth_smallest(nums):
            vals = sorted(nums)
            return vals[{p['k'] - 1}]
        """)

    def gen(r, p):
        k = p["k"]
        ok = (lambda xs: len(set(xs)) >= k) if p["distinct"] else (lambda xs: len(xs) >= k)
        cands = list_edges(r) + [[5] * (k + 1) + list(range(k + 1)), list(range(k, 0, -1)), [3, 1] * (k + 1),
                                 [-BIG] + list(range(k + 2)) + [BIG]]
        cands += rand_lists(r, 10, min_len=k, max_len=10, lo=-9, hi=9)
        return one([x for x in cands if ok(x)])

    return Family("kth_smallest", "kth_smallest", (("nums", "ints"),), "int", sample, what, code, gen, constraints,
                  split="val", twin_of=("second_largest",))


def _count_cmp():
    def sample(r):
        return {"t": r.randint(-5, 10), "op": r.choice([">", ">=", "<", "<="])}

    def what(p):
        word_ = {">": "greater than", ">=": "greater than or equal to", "<": "less than", "<=": "less than or equal to"}
        return f"how many numbers in nums are {word_[p['op']]} {p['t']}"

    def code(p):
        return _src(f"""
        def count_cmp(nums):
            n = 0
            for x in nums:
                if x {p['op']} {p['t']}:
                    n += 1
            return n
        """)

    def gen(r, p):
        t = p["t"]
        return one(list_edges(r) + [[t], [t - 1, t, t + 1], [t] * 3, [t + 1, t - 1]] + rand_lists(r, 6, t - 4, t + 4))

    return Family("count_compare", "count_cmp", (("nums", "ints"),), "int", sample, what, code, gen,
                  twin_of=("count_positive",))


def _sum_multiples():
    def sample(r):
        return {"d": r.randint(2, 12)}

    def what(p):
        return f"the sum of the numbers in nums that are divisible by {p['d']} (0 if there are none)"

    def code(p):
        return _src(f"""
        def sum_multiples(nums):
            total = 0
            for x in nums:
                if x % {p['d']} == 0:
                    total += x
            return total
        """)

    def gen(r, p):
        d = p["d"]
        return one(list_edges(r) + [[d], [d - 1, d + 1], [-d, 2 * d, 0], [d * BIG, 1]] + rand_lists(r, 6, -3 * d, 3 * d))

    return Family("sum_multiples", "sum_multiples", (("nums", "ints"),), "int", sample, what, code, gen,
                  twin_of=("sum_list", "filter_even"))


def _rotate_right():
    def sample(r):
        return {"k": r.randint(1, 12)}

    def what(p):
        return (f"nums rotated to the right by {p['k']} positions (the last element moves to the front, {p['k']} "
                "times; an empty list stays empty)")

    def code(p):
        return _src(f"""
        def rotate_right(nums):
            if len(nums) == 0:
                return []
            k = {p['k']} % len(nums)
            return nums[len(nums) - k:] + nums[:len(nums) - k]
        """)

    def gen(r, p):
        k = p["k"]
        return one(list_edges(r) + [list(range(k)), list(range(k + 1)), list(range(k - 1)) or [4], [1, 2]] +
                   rand_lists(r, 6))

    return Family("rotate_right", "rotate_right", (("nums", "ints"),), "ints", sample, what, code, gen, split="val",
                  twin_of=("rotate_left",))


def _chunk_sums():
    def sample(r):
        return {"k": r.randint(2, 6)}

    def what(p):
        return (f"the list of sums of consecutive blocks of {p['k']} elements of nums (the last block may be shorter; "
                "an empty list gives an empty list)")

    def code(p):
        return _src(f"""
        def chunk_sums(nums):
            out = []
            for i in range(0, len(nums), {p['k']}):
                out.append(sum(nums[i:i + {p['k']}]))
            return out
        """)

    def gen(r, p):
        k = p["k"]
        return one(list_edges(r) + [list(range(k)), list(range(k + 1)), list(range(k - 1))] + rand_lists(r, 6))

    return Family("chunk_sums", "chunk_sums", (("nums", "ints"),), "ints", sample, what, code, gen,
                  twin_of=("running_sum",))


def _max_window():
    def sample(r):
        return {"k": r.randint(2, 6)}

    def what(p):
        return f"the largest sum of {p['k']} consecutive elements of nums"

    def constraints(p):
        return f"nums has at least {p['k']} elements."

    def code(p):
        return _src(f"""
        def max_window(nums):
            best = sum(nums[:{p['k']}])
            for i in range(1, len(nums) - {p['k']} + 1):
                s = sum(nums[i:i + {p['k']}])
                if s > best:
                    best = s
            return best
        """)

    def gen(r, p):
        k = p["k"]
        cands = list_edges(r, min_len=k) + [[-1] * k, list(range(k)), [0] * (k - 1) + [9], [9] + [0] * k,
                                           [-5] * k + [1] * k, [1] * k + [-5] * k]
        return one([c for c in cands if len(c) >= k] + rand_lists(r, 7, min_len=k))

    return Family("max_window_sum", "max_window", (("nums", "ints"),), "int", sample, what, code, gen, constraints,
                  split="test")


def _first_index():
    def sample(r):
        return {"t": r.randint(-3, 8)}

    def what(p):
        return f"the index (0-based) of the first number in nums that is greater than {p['t']}, or -1 if there is none"

    def code(p):
        return _src(f"""
        def first_over(nums):
            for i in range(len(nums)):
                if nums[i] > {p['t']}:
                    return i
            return -1
        """)

    def gen(r, p):
        t = p["t"]
        return one(list_edges(r) + [[t], [t + 1], [t, t + 1], [t - 1, t, t + 2, t + 5]] + rand_lists(r, 6, t - 5, t + 5))

    return Family("first_index_over", "first_over", (("nums", "ints"),), "int", sample, what, code, gen)


def _clip_list():
    def sample(r):
        lo = r.randint(-5, 3)
        return {"lo": lo, "hi": lo + r.randint(1, 8)}

    def what(p):
        return (f"a new list where each number of nums is limited to the range [{p['lo']}, {p['hi']}]: values below "
                f"{p['lo']} become {p['lo']}, values above {p['hi']} become {p['hi']}")

    def code(p):
        return _src(f"""
        def clip_all(nums):
            out = []
            for x in nums:
                if x < {p['lo']}:
                    out.append({p['lo']})
                elif x > {p['hi']}:
                    out.append({p['hi']})
                else:
                    out.append(x)
            return out
        """)

    def gen(r, p):
        lo, hi = p["lo"], p["hi"]
        return one(list_edges(r) + [[lo, hi, lo - 1, hi + 1, lo + 1, hi - 1]] + rand_lists(r, 6, lo - 4, hi + 4))

    return Family("clip_list", "clip_all", (("nums", "ints"),), "ints", sample, what, code, gen, twin_of=("clamp",))


def _exactly_m():
    def sample(r):
        return {"m": r.randint(1, 4)}

    def what(p):
        return (f"the values that occur exactly {p['m']} time{'s' if p['m'] > 1 else ''} in nums, each listed once, "
                "in the order of their first occurrence")

    def code(p):
        return _src(f"""
        def exactly_m(nums):
            out = []
            for x in nums:
                if nums.count(x) == {p['m']} and x not in out:
                    out.append(x)
            return out
        """)

    def gen(r, p):
        m = p["m"]
        return one(list_edges(r) + [[1] * m, [1] * (m + 1), [2] * (m - 1) + [3] if m > 1 else [2, 2, 3],
                                    [4, 5] * m + [6]] + rand_lists(r, 6, 0, 4))

    return Family("values_exactly_m_times", "exactly_m", (("nums", "ints"),), "ints", sample, what, code, gen,
                  twin_of=("remove_duplicates",))


def _pairwise_diff():
    def sample(r):
        return {"s": r.randint(1, 5)}

    def what(p):
        return (f"the list of differences nums[i + {p['s']}] - nums[i] for every i where both exist "
                "(empty if there are none)")

    def code(p):
        return _src(f"""
        def diffs(nums):
            out = []
            for i in range(len(nums) - {p['s']}):
                out.append(nums[i + {p['s']}] - nums[i])
            return out
        """)

    def gen(r, p):
        s = p["s"]
        return one(list_edges(r) + [list(range(s)), list(range(s + 1)), [5] * (s + 2)] + rand_lists(r, 6))

    return Family("step_differences", "diffs", (("nums", "ints"),), "ints", sample, what, code, gen)


def _count_pairs():
    def sample(r):
        return {"t": r.randint(-4, 10)}

    def what(p):
        return f"how many pairs of positions i < j have nums[i] + nums[j] == {p['t']}"

    def code(p):
        return _src(f"""
        def count_pairs(nums):
            n = 0
            for i in range(len(nums)):
                for j in range(i + 1, len(nums)):
                    if nums[i] + nums[j] == {p['t']}:
                        n += 1
            return n
        """)

    def gen(r, p):
        t = p["t"]
        h = t // 2
        return one(list_edges(r) + [[h, t - h], [t], [h] * 4 if 2 * h == t else [h, t - h, h], [0, t, t, 0],
                                    [t - 1, 1, 1]] + rand_lists(r, 6, -3, t + 3, max_len=8))

    return Family("count_pairs_sum", "count_pairs", (("nums", "ints"),), "int", sample, what, code, gen, split="val",
                  twin_of=("two_sum",))


def _peaks():
    def sample(r):
        return {"ends": r.random() < 0.5}

    def what(p):
        if p["ends"]:
            return ("how many positions of nums hold a value strictly greater than each of its neighbours "
                    "(the first and last elements have only one neighbour and can be peaks; a single element is a peak)")
        return ("how many positions i with 0 < i < len(nums) - 1 have nums[i] strictly greater than both "
                "nums[i - 1] and nums[i + 1]")

    def code(p):
        if p["ends"]:
            return _src("""
            def count_peaks(nums):
                n = 0
                for i in range(len(nums)):
                    left = i == 0 or nums[i] > nums[i - 1]
                    right = i == len(nums) - 1 or nums[i] > nums[i + 1]
                    if left and right:
                        n += 1
                return n
            """)
        return _src("""
        def count_peaks(nums):
            n = 0
            for i in range(1, len(nums) - 1):
                if nums[i] > nums[i - 1] and nums[i] > nums[i + 1]:
                    n += 1
            return n
        """)

    def gen(r, p):
        return one(list_edges(r) + [[1, 2], [2, 1], [1, 3, 1], [3, 1, 3], [1, 2, 2, 1], [5, 1, 5, 1, 5]] +
                   rand_lists(r, 6, 0, 5))

    return Family("count_peaks", "count_peaks", (("nums", "ints"),), "int", sample, what, code, gen)


def _longest_inc():
    def sample(r):
        return {"strict": r.random() < 0.5}

    def what(p):
        return ("the length of the longest contiguous run of nums that is " +
                ("strictly increasing" if p["strict"] else "non-decreasing (each element >= the one before)") +
                " (0 for an empty list)")

    def code(p):
        op = ">" if p["strict"] else ">="
        return _src(f"""
        def longest_rising(nums):
            if not nums:
                return 0
            best = 1
            cur = 1
            for i in range(1, len(nums)):
                if nums[i] {op} nums[i - 1]:
                    cur += 1
                else:
                    cur = 1
                if cur > best:
                    best = cur
            return best
        """)

    def gen(r, p):
        return one(list_edges(r) + [[1, 1, 1], [1, 2, 2, 3], [3, 2, 1], [1, 2, 0, 1, 2, 3], [5, 6]] +
                   rand_lists(r, 6, 0, 5))

    return Family("longest_rising_run", "longest_rising", (("nums", "ints"),), "int", sample, what, code, gen)


def _signed_sum():
    def sample(r):
        return {"k": r.randint(2, 6)}

    def what(p):
        return (f"the sum of nums where every element whose 0-based index is a multiple of {p['k']} is counted "
                "negatively (subtracted) and all other elements are added")

    def code(p):
        return _src(f"""
        def signed_sum(nums):
            total = 0
            for i, x in enumerate(nums):
                if i % {p['k']} == 0:
                    total -= x
                else:
                    total += x
            return total
        """)

    def gen(r, p):
        k = p["k"]
        return one(list_edges(r) + [list(range(1, k + 2)), [1] * k, [2] * (k + 1)] + rand_lists(r, 6))

    return Family("signed_sum", "signed_sum", (("nums", "ints"),), "int", sample, what, code, gen)


def _bank():
    def sample(r):
        return {"start": r.randint(0, 50), "limit": r.choice([0, 10, 25])}

    def what(p):
        return (f"the final balance of an account that starts at {p['start']} and processes the transactions in nums "
                "in order: a positive number is a deposit; a negative number is a withdrawal, which is refused "
                f"(skipped) when it would take the balance below -{p['limit']}")

    def code(p):
        return _src(f"""
        def final_balance(nums):
            bal = {p['start']}
            for x in nums:
                if x >= 0:
                    bal += x
                elif bal + x >= -{p['limit']}:
                    bal += x
            return bal
        """)

    def gen(r, p):
        s, L = p["start"], p["limit"]
        return one(list_edges(r) + [[-(s + L)], [-(s + L + 1)], [-(s + L) + 1, -1], [5, -(s + L + 5)], [0]] +
                   rand_lists(r, 6, -40, 30))

    return Family("bank_balance", "final_balance", (("nums", "ints"),), "int", sample, what, code, gen)


# ============================================================================= integer families
def _digit_count():
    def sample(r):
        return {"d": r.randint(0, 9)}

    def what(p):
        return f"how many times the digit {p['d']} appears in the decimal form of the absolute value of n"

    def code(p):
        if p["d"] == 0:
            return _src("""
            def count_digit(n):
                n = abs(n)
                if n == 0:
                    return 1
                c = 0
                while n > 0:
                    if n % 10 == 0:
                        c += 1
                    n //= 10
                return c
            """)
        return _src(f"""
        def count_digit(n):
            n = abs(n)
            c = 0
            while n > 0:
                if n % 10 == {p['d']}:
                    c += 1
                n //= 10
            return c
        """)

    def gen(r, p):
        d = p["d"]
        edges = [0, d, -d, 10 * d + d, int(str(d) * 9), -int(f"1{d}0{d}"), BIG, 10, 101, 9, 1]
        return one(edges + [r.randint(-10 ** 7, 10 ** 7) for _ in range(5)])

    return Family("digit_count", "count_digit", (("n", "int"),), "int", sample, what, code, gen,
                  twin_of=("digit_sum", "last_digit"))


def _divisors_over():
    def sample(r):
        return {"t": r.randint(1, 30)}

    def what(p):
        return f"how many divisors of n are greater than {p['t']}"

    def constraints(p):
        return "1 <= n <= 10000."

    def code(p):
        return _src(f"""
        def divisors_over(n):
            c = 0
            for d in range(1, n + 1):
                if n % d == 0 and d > {p['t']}:
                    c += 1
            return c
        """)

    def gen(r, p):
        t = p["t"]
        return one([1, 2, t, t + 1, t * (t + 1), 12, 36, 97, 10000] + [r.randint(1, 500) for _ in range(5)])

    return Family("divisors_over", "divisors_over", (("n", "int"),), "int", sample, what, code, gen, constraints,
                  twin_of=("is_prime",))


def _divide_steps():
    def sample(r):
        return {"d": r.randint(2, 9)}

    def what(p):
        return (f"how many times n must be replaced by n // {p['d']} (integer division) until it is smaller "
                f"than {p['d']} (0 if it already is)")

    def constraints(p):
        return "n >= 0."

    def code(p):
        return _src(f"""
        def divide_steps(n):
            steps = 0
            while n >= {p['d']}:
                n //= {p['d']}
                steps += 1
            return steps
        """)

    def gen(r, p):
        d = p["d"]
        return one([0, 1, d - 1, d, d + 1, d * d - 1, d * d, BIG] + [r.randint(0, 10 ** 6) for _ in range(5)])

    return Family("divide_steps", "divide_steps", (("n", "int"),), "int", sample, what, code, gen, constraints)


def _base_convert():
    def sample(r):
        return {"b": r.randint(2, 9)}

    def what(p):
        return f"the base-{p['b']} representation of n as a string of digits (\"0\" for 0)"

    def constraints(p):
        return "n >= 0."

    def code(p):
        return _src(f"""
        def to_base(n):
            if n == 0:
                return '0'
            digits = ''
            while n > 0:
                digits = str(n % {p['b']}) + digits
                n //= {p['b']}
            return digits
        """)

    def gen(r, p):
        b = p["b"]
        return one([0, 1, b - 1, b, b + 1, b * b, b * b - 1, BIG] + [r.randint(0, 10 ** 5) for _ in range(5)])

    return Family("base_convert", "to_base", (("n", "int"),), "str", sample, what, code, gen, constraints, split="val")


def _power_mod():
    def sample(r):
        return {"e": r.randint(2, 5), "m": r.randint(3, 13)}

    def what(p):
        return f"the remainder of n ** {p['e']} divided by {p['m']}, a number from 0 to {p['m'] - 1}"

    def code(p):
        return _src(f"""
        def power_mod(n):
            r = 1
            for _ in range({p['e']}):
                r = r * n % {p['m']}
            return r
        """)

    def gen(r, p):
        m = p["m"]
        return one([0, 1, -1, m, m - 1, m + 1, -m - 1, BIG, -BIG] + [r.randint(-100, 100) for _ in range(5)])

    return Family("power_mod", "power_mod", (("n", "int"),), "int", sample, what, code, gen)


def _threshold_grade():
    def sample(r):
        hi = r.randint(70, 95)
        mid = hi - r.randint(5, 20)
        lo = mid - r.randint(5, 20)
        return {"t": [hi, mid, lo], "labels": r.choice([["A", "B", "C", "D"], ["gold", "silver", "bronze", "none"],
                                                         ["high", "medium", "low", "fail"]])}

    def what(p):
        (a, b, c), (la, lb, lc, ld) = p["t"], p["labels"]
        return (f"the label of an integer score: \"{la}\" for {a} or more, \"{lb}\" for {b} to {a - 1}, "
                f"\"{lc}\" for {c} to {b - 1} and \"{ld}\" below {c}")

    def code(p):
        (a, b, c), (la, lb, lc, ld) = p["t"], p["labels"]
        return _src(f"""
        def label(score):
            if score >= {a}:
                return {la!r}
            if score >= {b}:
                return {lb!r}
            if score >= {c}:
                return {lc!r}
            return {ld!r}
        """)

    def gen(r, p):
        a, b, c = p["t"]
        edges = [a, a - 1, a + 1, b, b - 1, b + 1, c, c - 1, c + 1, 0, 100]
        return one(edges + [r.randint(0, 100) for _ in range(4)])

    return Family("threshold_label", "label", (("score", "int"),), "str", sample, what, code, gen, split="val",
                  twin_of=("letter_grade",))


def _lcm():
    def sample(r):
        return {"k": r.randint(2, 30)}

    def what(p):
        return f"the least common multiple of n and {p['k']}"

    def constraints(p):
        return "1 <= n <= 10**6."

    def code(p):
        return _src(f"""
        def lcm_with(n):
            a, b = n, {p['k']}
            while b:
                a, b = b, a % b
            return n * {p['k']} // a
        """)

    def gen(r, p):
        k = p["k"]
        return one([1, k, k - 1, k + 1, 2 * k, k * k, 10 ** 6, 7, 6] + [r.randint(1, 1000) for _ in range(5)])

    return Family("lcm_with", "lcm_with", (("n", "int"),), "int", sample, what, code, gen, constraints,
                  twin_of=("gcd",))


def _nearest_multiple():
    def sample(r):
        return {"m": r.randint(2, 10), "tie": r.choice(["up", "down"])}

    def what(p):
        return (f"n rounded to the nearest multiple of {p['m']}; when n is exactly halfway between two multiples, "
                f"round {p['tie']} (towards the {'larger' if p['tie'] == 'up' else 'smaller'} multiple)")

    def code(p):
        m = p["m"]
        cmp = ">=" if p["tie"] == "up" else ">"
        return _src(f"""
        def round_to(n):
            low = n - n % {m}
            if (n - low) * 2 {cmp} {m}:
                return low + {m}
            return low
        """)

    def gen(r, p):
        m = p["m"]
        edges = [0, 1, -1, m, m // 2, (m + 1) // 2, m - 1, -m // 2, -(m // 2), m + m // 2, BIG, -BIG - 1]
        return one(edges + [r.randint(-100, 100) for _ in range(4)])

    return Family("nearest_multiple", "round_to", (("n", "int"),), "int", sample, what, code, gen,
                  twin_of=("round_half_up",))


def _count_range_div():
    def sample(r):
        return {"k": r.randint(2, 15)}

    def what(p):
        return f"how many integers x with a <= x <= b are divisible by {p['k']} (0 when a > b)"

    def code(p):
        return _src(f"""
        def count_div(a, b):
            c = 0
            for x in range(a, b + 1):
                if x % {p['k']} == 0:
                    c += 1
            return c
        """)

    def gen(r, p):
        k = p["k"]
        edges = [(0, 0), (1, 1), (k, k), (k - 1, k - 1), (1, k), (k, 2 * k), (-k, k), (5, 2), (-3 * k, -k - 1),
                 (k + 1, 2 * k - 1), (0, 1000)]
        return edges + [(a, a + r.randint(-2, 60)) for a in (r.randint(-50, 50) for _ in range(5))]

    return Family("count_divisible_range", "count_div", (("a", "int"), ("b", "int")), "int", sample, what, code, gen,
                  split="test")


def _robot():
    def sample(r):
        return {"k": r.randint(1, 4), "m": r.randint(1, 3)}

    def what(p):
        return (f"the Manhattan distance (|x| + |y|) from the start after a robot follows the moves in s: 'U' and 'D' "
                f"move it {p['k']} step{'s' if p['k'] > 1 else ''} up or down, 'L' and 'R' {p['m']} "
                f"step{'s' if p['m'] > 1 else ''} left or right; other characters are ignored")

    def code(p):
        return _src(f"""
        def robot_distance(s):
            x = 0
            y = 0
            for ch in s:
                if ch == 'U':
                    y += {p['k']}
                elif ch == 'D':
                    y -= {p['k']}
                elif ch == 'L':
                    x -= {p['m']}
                elif ch == 'R':
                    x += {p['m']}
            return abs(x) + abs(y)
        """)

    def gen(r, p):
        edges = ["", "U", "D", "L", "R", "UD", "LR", "UUL", "DDR", "LLLD", "RRU", "x", "UxR"]
        return one(edges + [word(r, r.randint(0, 12), "UDLR") for _ in range(5)])

    return Family("robot_walk", "robot_distance", (("s", "str"),), "int", sample, what, code, gen, split="test")


def _sum_between():
    def sample(r):
        return {"step": r.randint(1, 7)}

    def what(p):
        return (f"the sum a + (a + {p['step']}) + (a + {2 * p['step']}) + ... of the numbers starting at a, "
                f"going up in steps of {p['step']}, that are <= b (0 when a > b)")

    def code(p):
        return _src(f"""
        def stepped_sum(a, b):
            total = 0
            x = a
            while x <= b:
                total += x
                x += {p['step']}
            return total
        """)

    def gen(r, p):
        s = p["step"]
        edges = [(0, 0), (1, 1), (3, 2), (1, s), (1, s + 1), (-5, 5), (-10, -1), (0, 2 * s), (7, 7 + s - 1)]
        return edges + [(a, a + r.randint(-3, 40)) for a in (r.randint(-30, 30) for _ in range(5))]

    return Family("stepped_sum", "stepped_sum", (("a", "int"), ("b", "int")), "int", sample, what, code, gen,
                  split="val", twin_of=("sum_to_n",))


def _max_gap():
    def sample(r):
        return {"mode": r.choice(["largest", "smallest"]), "k": r.randint(1, 4)}

    def what(p):
        k = p["k"]
        pair = "two neighbouring elements" if k == 1 else f"two elements {k} positions apart (nums[i] and nums[i + {k}])"
        return (f"the {p['mode']} absolute difference between {pair} of nums "
                f"(0 when nums has fewer than {k + 1} elements)")

    def code(p):
        k = p["k"]
        if p["mode"] == "largest":
            return _src(f"""
            def neighbour_gap(nums):
                best = 0
                for i in range({k}, len(nums)):
                    d = abs(nums[i] - nums[i - {k}])
                    if d > best:
                        best = d
                return best
            """)
        return _src(f"""
        def neighbour_gap(nums):
            if len(nums) < {k + 1}:
                return 0
            best = abs(nums[{k}] - nums[0])
            for i in range({k + 1}, len(nums)):
                d = abs(nums[i] - nums[i - {k}])
                if d < best:
                    best = d
            return best
        """)

    def gen(r, p):
        k = p["k"]
        return one([[], list(range(k)), list(range(k + 1)), [0] * k + [7] + [0] * k, [9] + [1] * (k + 1),
                    [i * (30 - i) for i in range(2 * k + 6)], [-(i * i) for i in range(2 * k + 5)]] +
                   rand_lists(r, 3, min_len=2 * k + 2) + list_edges(r) + rand_lists(r, 6))

    return Family("neighbour_gap", "neighbour_gap", (("nums", "ints"),), "int", sample, what, code, gen,
                  split="test")


def _interleave():
    def sample(r):
        return {"sep": r.choice(["-", "+", ".", ",", "|", "/", ":"])}

    def what(p):
        return (f"the characters of s joined by '{p['sep']}', with every run of equal neighbouring characters kept "
                f"together (for example \"aab\" gives \"aa{p['sep']}b\")")

    def code(p):
        return _src(f"""
        def group_join(s):
            groups = []
            for ch in s:
                if groups and groups[-1][0] == ch:
                    groups[-1] += ch
                else:
                    groups.append(ch)
            return {p['sep']!r}.join(groups)
        """)

    def gen(r, p):
        edges = ["", "a", "aa", "ab", "aab", "abb", "abba", "zzzz", "a b"]
        return one(edges + [word(r, r.randint(1, 10), "abc") for _ in range(5)])

    return Family("group_join", "group_join", (("s", "str"),), "str", sample, what, code, gen, split="val")


FAMILY_BUILDERS = [
    _count_char, _replace_char, _longest_run, _caesar, _every_kth, _count_words_len, _words_starting, _strip_chars,
    _pad_left, _rle, _palindrome_without, _digit_chars_sum, _count_substring, _bracket_depth, _parse_kv, _top_word,
    _kth_smallest, _count_cmp, _sum_multiples, _rotate_right, _chunk_sums, _max_window, _first_index, _clip_list,
    _exactly_m, _pairwise_diff, _count_pairs, _peaks, _longest_inc, _signed_sum, _bank, _digit_count,
    _divisors_over, _divide_steps, _base_convert, _power_mod, _threshold_grade, _lcm, _nearest_multiple,
    _count_range_div, _robot, _sum_between, _max_gap, _interleave,
]

FAMILIES: dict[str, Family] = {}
for _b in FAMILY_BUILDERS:
    _f = _b()
    assert _f.name not in FAMILIES, _f.name
    FAMILIES[_f.name] = _f
