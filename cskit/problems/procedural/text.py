"""Procedural families over strings: counting, replacing, runs, ciphers, words, brackets, parsing.

Each builder returns one :class:`~cskit.problems.procedural.base.Family`; ``BUILDERS`` lists them in order.
"""
from __future__ import annotations

from cskit.problems.procedural.base import BIG, LETTERS, Family, mixed_text, one, ordinal, sentence, src, word


def _count_char():
    def sample(r):
        return {"c": r.choice(LETTERS), "ci": r.random() < 0.5}

    def what(p):
        return (f"how many times the letter '{p['c']}' occurs in s" +
                (", counting upper and lower case alike" if p["ci"] else " (case-sensitive: only the lower-case letter counts)"))

    def code(p):
        if p["ci"]:
            return src(f"""
            def count_letter(s):
                n = 0
                for ch in s.lower():
                    if ch == {p['c']!r}:
                        n += 1
                return n
            """)
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
        return src(f"""
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
            return src("""
            def top_word(s):
                words = s.split()
                best = words[0]
                for w in words:
                    if words.count(w) > words.count(best):
                        best = w
                return best
            """)
        return src("""
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


BUILDERS = [_count_char, _replace_char, _longest_run, _caesar, _every_kth, _count_words_len, _words_starting, _strip_chars, _pad_left, _rle, _palindrome_without, _digit_chars_sum, _count_substring, _bracket_depth, _parse_kv, _top_word]
