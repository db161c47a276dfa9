"""Procedural families over lists of integers: order statistics, windows, counts, transforms.

Each builder returns one :class:`~cskit.problems.procedural.base.Family`; ``BUILDERS`` lists them in order.
"""
from __future__ import annotations

from cskit.problems.procedural.base import BIG, Family, list_edges, one, ordinal, rand_lists, src


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
            return src(f"""
            def kth_smallest(nums):
                vals = sorted(set(nums))
                return vals[{p['k'] - 1}]
            """)
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
            return src("""
            def count_peaks(nums):
                n = 0
                for i in range(len(nums)):
                    left = i == 0 or nums[i] > nums[i - 1]
                    right = i == len(nums) - 1 or nums[i] > nums[i + 1]
                    if left and right:
                        n += 1
                return n
            """)
        return src("""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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


BUILDERS = [_kth_smallest, _count_cmp, _sum_multiples, _rotate_right, _chunk_sums, _max_window, _first_index, _clip_list, _exactly_m, _pairwise_diff, _count_pairs, _peaks, _longest_inc, _signed_sum, _bank]
