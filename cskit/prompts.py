"""Policy prompts (recipe: "Evaluation") and the reward model's chat messages (recipe: "Reward model").

``question_text(problem)`` is the single user turn given to the policy, and the exact text the RM sees
as the question (``question_content``):

* ``stdio`` / ``call`` / ``none``: the LiveCodeBench-style prompt CodeScaler trains and evaluates with
  (DeepCoder/rllm's ``fetch_live_code_bench_system_prompt``)::

      You are an expert Python programmer. ... passes all tests.\\n\\n
      <problem>\\n\\n
      ### Format: <stdin instructions | starter-code instructions>\\n
      ```python\\n<# YOUR CODE HERE | starter code>\\n```\\n\\n
      ### Answer: (use the provided format with backticks)\\n\\n

  One deliberate difference: the problem text is right-stripped and followed by a blank line, whereas
  rllm concatenates it verbatim (DeepCoder problems without a trailing newline run into "### Format:");
  trailing whitespace of the starter code is dropped too.
  A ``call`` problem without starter code gets ``CALL_FORMAT_NO_STARTER``, which names the function
  (no ``def`` stub is invented: the signature is unknown).
* ``assert`` (HumanEval/MBPP-like): a completion-style prompt: complete the function given its
  signature + docstring (``starter_code``, else the statement when it already contains a ``def``), and
  answer with the whole function in one ```` ```python ```` block.

* a problem whose ``metadata["prompt"]`` is ``"raw"``: the problem text itself, verbatim. The authors' RL
  data uses the LCB template only for DeepCoder's ``lcbv5`` rows and the raw problem text for ``taco`` and
  ``primeintellect`` (docs/recipe.md, "RL (GRPO)"); the DeepCoder loader marks those rows. This changes the
  policy prompt and the RM's question alike.

``rm_messages(question, code)`` is ``[user: question, assistant: code]`` (the code bare, no fences).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from cskit.problems import Problem

LCB_SYSTEM_MESSAGE_GENERIC = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will "
    "generate a correct Python program that matches the specification and passes all tests."
)
LCB_FORMATTING_MESSAGE_WITH_STARTER_CODE = (
    "You will use the following starter code to write the solution to the problem and enclose your code "
    "within delimiters."
)
LCB_FORMATTING_WITHOUT_STARTER_CODE = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the "
    "sample inputs). Enclose your code within delimiters as follows. Ensure that when the python program runs, "
    "it reads the inputs, runs the algorithm and writes output to STDOUT."
)
CALL_FORMAT_NO_STARTER = (
    "Write a Python function named `{entry_point}` that solves the problem and returns the answer (do not read "
    "from stdin or print). Enclose your code within delimiters as follows."
)
ANSWER_LINE = "### Answer: (use the provided format with backticks)\n\n"
COMPLETION_INTRO = (
    "You are an expert Python programmer. Complete the following Python function so that it matches its "
    "specification and passes all tests."
)
COMPLETION_FORMAT = (
    "Answer with the complete function (its signature, body and any imports or helpers it needs) in a "
    "single ```python code block."
)

__all__ = ["question_text", "policy_messages", "render_policy_prompt", "rm_messages", "lcb_prompt",
           "completion_prompt", "completion_text", "prompt_question"]


def lcb_prompt(statement: str, starter_code: str = "", entry_point: str = "", kind: str = "stdio") -> str:
    """The LiveCodeBench-style user prompt (see the module docstring)."""
    prompt = LCB_SYSTEM_MESSAGE_GENERIC + "\n\n" + statement.rstrip() + "\n\n"
    if starter_code.strip():
        prompt += f"### Format: {LCB_FORMATTING_MESSAGE_WITH_STARTER_CODE}\n"
        prompt += f"```python\n{starter_code.rstrip()}\n```\n\n"
    elif kind == "call" and entry_point:
        prompt += f"### Format: {CALL_FORMAT_NO_STARTER.format(entry_point=entry_point)}\n"
        prompt += "```python\n# YOUR CODE HERE\n```\n\n"
    else:
        prompt += f"### Format: {LCB_FORMATTING_WITHOUT_STARTER_CODE}\n"
        prompt += "```python\n# YOUR CODE HERE\n```\n\n"
    return prompt + ANSWER_LINE


def completion_prompt(statement: str, starter_code: str = "", entry_point: str = "") -> str:
    """Completion-style prompt for HumanEval/MBPP-like ``assert`` problems."""
    code = starter_code if starter_code.strip() else (statement if "def " in statement else "")
    prompt = COMPLETION_INTRO + "\n\n"
    if code:
        if code is not statement and statement.strip() and statement.strip() not in code:
            prompt += statement.rstrip() + "\n\n"
        prompt += f"```python\n{code.rstrip()}\n```\n\n"
    else:
        prompt += statement.rstrip() + "\n\n"
        if entry_point:
            prompt += f"The function must be named `{entry_point}`.\n\n"
    return prompt + f"### Format: {COMPLETION_FORMAT}\n\n" + ANSWER_LINE


def question_text(problem: Problem) -> str:
    """The policy's user turn and the RM's question for ``problem``.

    A problem whose tests were hidden (``Problem.without_tests``) keeps the prompt of its original kind,
    so hiding tests changes what the reward can check, never what the policy is asked."""
    if problem.metadata.get("prompt") == "raw":
        return problem.statement
    kind = problem.kind
    if kind == "none":
        kind = problem.metadata.get("original_kind", "none")
    if kind == "assert":
        return completion_prompt(problem.statement, problem.starter_code, problem.entry_point)
    return lcb_prompt(problem.statement, problem.starter_code, problem.entry_point, kind)


def policy_messages(problem: Problem) -> list[dict[str, str]]:
    return [{"role": "user", "content": question_text(problem)}]


def render_policy_prompt(tokenizer: Any, problem: Problem) -> str:
    """Chat-template text for the policy (``add_generation_prompt=True``), ready for generation."""
    if getattr(tokenizer, "chat_template", None) is None:
        raise ValueError("the policy tokenizer has no chat_template; cskit prompts are chat turns")
    return tokenizer.apply_chat_template(policy_messages(problem), tokenize=False, add_generation_prompt=True)


def rm_messages(question: str, code: str) -> list[dict[str, str]]:
    """``[user: question, assistant: code]`` -- the RM input before its chat template (recipe: "Reward model")."""
    return [{"role": "user", "content": question}, {"role": "assistant", "content": code}]


# --- trl's completion / prompt formats -> text --------------------------------------------------------------


def completion_text(completion: Any) -> str:
    """The response text of one trl completion: a string, or a list of chat messages (assistant turns joined)."""
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        return _content_text(completion.get("content", ""))
    if isinstance(completion, Sequence):
        parts = [m for m in completion if isinstance(m, Mapping)]
        assistant = [m for m in parts if m.get("role", "assistant") == "assistant"] or parts
        return "".join(_content_text(m.get("content", "")) for m in assistant)
    return str(completion)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):  # multimodal-style content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text")
    return "" if content is None else str(content)


def prompt_question(prompt: Any) -> str:
    """Fallback question text when the dataset has no ``question`` column: the last user turn (or the text)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        users = [m for m in prompt if isinstance(m, Mapping) and m.get("role") == "user"]
        if users:
            return _content_text(users[-1].get("content", ""))
    return completion_text(prompt)
