"""Procedural families over integers: digits, divisors, bases, modular arithmetic, simulation.

Each builder returns one :class:`~cskit.problems.procedural.base.Family`; ``BUILDERS`` lists them in order.
"""
from __future__ import annotations

from cskit.problems.procedural.base import BIG, Family, list_edges, one, rand_lists, src, word


def _digit_count():
    def sample(r):
        return {"d": r.randint(0, 9)}

    def what(p):
        return f"how many times the digit {p['d']} appears in the decimal form of the absolute value of n"

    def code(p):
        if p["d"] == 0:
            return src("""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
            return src(f"""
            def neighbour_gap(nums):
                best = 0
                for i in range({k}, len(nums)):
                    d = abs(nums[i] - nums[i - {k}])
                    if d > best:
                        best = d
                return best
            """)
        return src(f"""
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
        return src(f"""
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


BUILDERS = [_digit_count, _divisors_over, _divide_steps, _base_convert, _power_mod, _threshold_grade, _lcm, _nearest_multiple, _count_range_div, _robot, _sum_between, _max_gap, _interleave]
