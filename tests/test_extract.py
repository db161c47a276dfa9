"""Extraction rules (recipe: "Code extraction"): strict = the paper's code, lenient = last fenced block."""
import re

import pytest

from cskit.extract import FENCE_RE, extract_lenient, extract_strict, find_blocks

PAPER_RE = r"```(?:\w+)?\n(.*?)```"


def paper_extract(response, check_ast=True):
    """Verbatim re-statement of the authors' extract_code_from_model (recipe: "Code extraction")."""
    import ast
    blocks = re.findall(PAPER_RE, response, re.DOTALL)
    if len(blocks) == 0:
        return ""
    if len(blocks) != 1:
        return ""
    code = blocks[-1].strip()
    if check_ast:
        try:
            ast.parse(code)
        except Exception:
            return ""
    return code


CASES = {
    "single": "Sure.\n```python\ndef f(x):\n    return x + 1\n```\nDone.",
    "no_tag": "```\nprint(1)\n```",
    "py_tag": "```py\nprint(1)\n```",
    "Python3_tag": "```Python3\nprint(1)\n```",
    "multiple": "```python\nx = 1\n```\ntext\n```python\ny = 2\n```",
    "unterminated": "```python\nprint(1)\n",
    "unterminated_after_complete": "```python\nx = 1\n```\nmore\n```python\ny = 2\n",
    "think_blocks": "<think>\n```python\nx = 1\n```\n</think>\n```python\nprint(2)\n```",
    "think_single": "<think>\nplan: loop over input\n</think>\n```python\nprint(2)\n```",
    "syntax_error": "```python\ndef f(:\n    pass\n```",
    "empty_block": "```python\n```",
    "indent_only": "```python\n    \n\t\n```",
    "cpp_then_python": "```c++\nint main(){}\n```\nthen python:\n```python\nprint(1)\n```\n",
    "cpp_only": "```c++\nint x;\n```",
    "tag_trailing_space": "```python \nprint(1)\n```",
    "inline_close": "```python\nprint(1)```",
    "crlf": "Here:\r\n```python\r\nprint(1)\r\n```\r\n",
    "crlf_inside_only": "```python\nx = 1\r\nprint(x)\r\n```",
    "no_fence": "print(1)",
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_strict_is_the_papers_rule(name):
    r = CASES[name]
    assert extract_strict(r) == paper_extract(r)
    assert extract_strict(r, check_ast=False) == paper_extract(r, check_ast=False)
    assert find_blocks(r) == re.findall(PAPER_RE, r, re.DOTALL)
    assert FENCE_RE.pattern == PAPER_RE


def test_strict_expected_values():
    assert extract_strict(CASES["single"]) == "def f(x):\n    return x + 1"
    for name in ("py_tag", "Python3_tag", "no_tag", "inline_close"):
        assert extract_strict(CASES[name]) == "print(1)", name
    for name in ("multiple", "unterminated", "think_blocks", "syntax_error", "empty_block", "indent_only",
                 "cpp_then_python", "cpp_only", "tag_trailing_space", "crlf", "no_fence", "empty"):
        assert extract_strict(CASES[name]) == "", name
    assert extract_strict(CASES["unterminated_after_complete"]) == "x = 1"  # the open block is no block
    assert extract_strict(CASES["think_single"]) == "print(2)"
    assert extract_strict(CASES["syntax_error"], check_ast=False) == "def f(:\n    pass"


def test_strict_cpp_resync_captures_prose():
    # the paper's regex cannot open at ```c++ and resynchronises on the closing fence
    assert find_blocks(CASES["cpp_then_python"]) == ["then python:\n"]


def test_crlf_behaviour():
    # paper-identical: a CRLF fence line opens no block
    assert find_blocks(CASES["crlf"]) == []
    assert extract_strict(CASES["crlf"]) == ""
    assert extract_strict(CASES["crlf"], normalize_newlines=True) == "print(1)"
    assert extract_lenient(CASES["crlf"]) == ""     # the authors' rule: same regex, so no block either
    # LF fence, CRLF inside: found by both; strip() removes the trailing \r, ast accepts \r\n inside
    assert extract_strict(CASES["crlf_inside_only"]) == "x = 1\r\nprint(x)"
    assert extract_lenient(CASES["crlf_inside_only"]) == "x = 1\r\nprint(x)"


def test_lenient_values():
    assert extract_lenient(CASES["multiple"]) == "y = 2"
    assert extract_lenient(CASES["think_blocks"]) == "print(2)"
    assert extract_lenient(CASES["syntax_error"]) == "def f(:\n    pass"  # no AST check
    assert extract_lenient(CASES["unterminated"]) == ""
    assert extract_lenient(CASES["unterminated_after_complete"]) == "x = 1"
    assert extract_lenient(CASES["empty_block"]) == ""
    assert extract_lenient(CASES["indent_only"]) == ""
    # the authors' rule: lenient is the last match of the strict regex, whatever it captured
    for name in ("cpp_then_python", "cpp_only", "tag_trailing_space"):
        blocks = find_blocks(CASES[name])
        assert extract_lenient(CASES[name]) == (blocks[-1].strip() if blocks else "")
    assert extract_lenient(CASES["no_fence"]) == ""
    assert extract_lenient(None) == "" and extract_strict(None) == ""


@pytest.mark.parametrize("name", ["single", "py_tag", "Python3_tag", "multiple", "think_blocks", "inline_close",
                                  "unterminated_after_complete", "syntax_error"])
def test_lenient_agrees_with_paper_regex_on_ordinary_responses(name):
    r = CASES[name]
    blocks = re.findall(PAPER_RE, r, re.DOTALL)
    assert extract_lenient(r) == blocks[-1].strip()


def test_strict_rejects_null_bytes_and_deep_nesting():
    assert extract_strict("```python\nx = '\x00'\n```") in ("", "x = '\x00'")  # never raises
    assert extract_strict("```python\n" + "(" * 1000 + ")" * 1000 + "\n```") in ("", "(" * 1000 + ")" * 1000)


def test_lenient_is_the_authors_extract_code_from_model_test():
    """eval.py: re.findall(r"```(?:\\w+)?\\n(.*?)```", text, re.DOTALL)[-1].strip(): an inline ```x``` before
    the real block does not hide the code."""
    text = "Use ```x``` as a name.\n```python\nx = 1\nprint(x)\n```\n"
    assert extract_lenient(text) == re.findall(PAPER_RE, text, re.DOTALL)[-1].strip() == "x = 1\nprint(x)"
