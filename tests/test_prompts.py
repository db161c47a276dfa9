"""Policy prompts (recipe: "Evaluation") and RM messages (recipe: "Reward model")."""
import sys

import pytest

from cskit.extract import extract_strict
from cskit.problems import Problem, TestCase
from cskit.prompts import (LCB_FORMATTING_WITHOUT_STARTER_CODE, LCB_SYSTEM_MESSAGE_GENERIC, policy_messages,
                           question_text, render_policy_prompt, rm_messages)

STDIO = Problem(id="p1", statement="Read n and print n + 1.\n", kind="stdio", tests=[TestCase("1\n", "2\n")])
CALL = Problem(id="p2", statement="Return the sum of a list.", kind="call", entry_point="total",
               starter_code="class Solution:\n    def total(self, xs: list[int]) -> int:\n        ",
               tests=[TestCase("[1, 2]", "3")])
CALL_NO_STARTER = Problem(id="p3", statement="Return the sum of a list.", kind="call", entry_point="total",
                          tests=[TestCase("[1, 2]", "3")])
HUMANEVAL = Problem(id="HumanEval/0", kind="assert", entry_point="add", source="humaneval",
                    statement='def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
                    starter_code='def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
                    tests=[TestCase("assert add(1, 2) == 3")])
MBPP = Problem(id="mbpp/1", kind="assert", entry_point="max_of_two", source="mbpp",
               statement="Write a function to find the maximum of two numbers.",
               tests=[TestCase("assert max_of_two(1, 2) == 2")])


def test_stdio_prompt_is_lcb_style():
    q = question_text(STDIO)
    assert q == (LCB_SYSTEM_MESSAGE_GENERIC + "\n\nRead n and print n + 1.\n\n### Format: "
                 + LCB_FORMATTING_WITHOUT_STARTER_CODE + "\n```python\n# YOUR CODE HERE\n```\n\n"
                 "### Answer: (use the provided format with backticks)\n\n")
    assert q.startswith("You are an expert Python programmer.")
    assert "Read the inputs from stdin solve the problem and write the answer to stdout" in q
    # the inline format block is itself one fenced block: a response echoing it is handled by extraction
    assert extract_strict(q) == "# YOUR CODE HERE"


def test_none_kind_uses_stdio_format():
    p = STDIO.without_tests()
    assert question_text(p) == question_text(STDIO)


def test_call_prompt_with_starter_code():
    q = question_text(CALL)
    assert "### Format: You will use the following starter code to write the solution" in q
    assert "```python\nclass Solution:\n    def total(self, xs: list[int]) -> int:\n```\n\n" in q
    assert q.endswith("### Answer: (use the provided format with backticks)\n\n")
    assert "stdin" not in q


def test_call_prompt_without_starter_names_function():
    q = question_text(CALL_NO_STARTER)
    assert "`total`" in q and "# YOUR CODE HERE" in q and "Read the inputs from stdin" not in q


def test_completion_prompt_humaneval():
    q = question_text(HUMANEVAL)
    assert "Complete the following Python function" in q
    assert '```python\ndef add(a: int, b: int) -> int:\n    """Return a + b."""\n```' in q
    assert q.count("def add") == 1  # statement == starter code is not repeated
    assert "single ```python code block" in q and q.endswith("(use the provided format with backticks)\n\n")
    assert "assert add" not in q  # tests are never shown


def test_completion_prompt_mbpp_like():
    q = question_text(MBPP)
    assert "Write a function to find the maximum of two numbers." in q and "`max_of_two`" in q


def test_messages_and_render():
    assert policy_messages(STDIO) == [{"role": "user", "content": question_text(STDIO)}]
    assert rm_messages("Q", "print(1)") == [{"role": "user", "content": "Q"},
                                            {"role": "assistant", "content": "print(1)"}]

    class Tok:
        chat_template = "x"

        def apply_chat_template(self, msgs, tokenize, add_generation_prompt):
            assert tokenize is False and add_generation_prompt is True
            return "<u>" + msgs[0]["content"] + "</u><a>"

    assert render_policy_prompt(Tok(), STDIO) == "<u>" + question_text(STDIO) + "</u><a>"

    class NoTemplate:
        chat_template = None

    with pytest.raises(ValueError, match="chat_template"):
        render_policy_prompt(NoTemplate(), STDIO)


def test_no_torch_import():
    import subprocess
    subprocess.run([sys.executable, "-c", "import sys, cskit.prompts, cskit.extract, cskit.shaping;"
                    "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"], check=True)


def test_hidden_tests_keep_the_original_prompt():
    from cskit.problems import load_source
    from cskit.prompts import question_text

    p = load_source("humaneval")[0]
    assert question_text(p.without_tests()) == question_text(p)


def test_deepcoder_prompts_follow_the_authors_rule():
    """LCB template for lcbv5 rows only; taco and primeintellect rows are asked in their raw problem text
    (policy prompt and RM question alike)."""
    from pathlib import Path

    from cskit.problems import load_source

    fx = Path(__file__).parent / "fixtures" / "problems"
    lcb = load_source(f"deepcoder:lcbv5:{fx / 'deepcoder_lcbv5.jsonl'}")[0]
    assert question_text(lcb).startswith("You are an expert Python programmer")
    for subset in ("taco", "primeintellect"):
        p = load_source(f"deepcoder:{subset}:{fx / f'deepcoder_{subset}.jsonl'}")[0]
        assert question_text(p) == p.statement and "### Format:" not in question_text(p)
