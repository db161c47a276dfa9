r"""Code extraction from model responses (recipe: "Code extraction"): the paper's strict rule and a lenient eval rule.

``extract_strict`` is the CodeScaler rule used for RM scoring and reward shaping, byte-for-byte the
authors' ``extract_code_from_model``::

    blocks = re.findall(r"```(?:\w+)?\n(.*?)```", response, re.DOTALL)
    exactly one block, else ""; the stripped block must ``ast.parse``, else ""

``extract_lenient`` is the evaluation rule, the authors' ``extract_code_from_model_test`` (``eval.py``): the
**same regex** as strict extraction, the **last** block, stripped; no single-block rule and no AST check.
(An earlier cskit version used a wider opening fence; a response with an inline ```` ```x``` ```` before
the real block then gave "" where the authors' rule gives the code. The authors' rule is kept exactly.)

Edge cases (each has a test in ``tests/test_extract.py``):

* **Unterminated fence** (e.g. a truncated response): the regex needs a closing fence, so an open block
  is not a block. Strict: "" if it was the only one. Lenient: the last block the regex finds, else "".
* **``<think>`` text**: not special. Blocks inside the reasoning count towards the strict total (a
  response with a draft block in ``<think>`` and a final block is rejected, as in the paper); lenient
  returns the last block wherever it is.
* **Language tags**: the tag is ``\w+`` (letters, digits, underscore), so ```` ```python ````,
  ```` ```py ````, ```` ```Python3 ```` work; ```` ```c++ ````, ```` ```objective-c ````, a tag
  followed by a space, or code on the fence line do **not** open a strict block at that fence. The regex then
  resynchronises on a later fence, so a ```` ```c++ ```` block followed by a python block can yield the
  *prose between them* as a "block" (a closing fence followed by a newline looks like an untagged
  opening fence) and lose the python block. Both rules keep the authors' behaviour (the AST check makes
  strict reject most such captures, giving ε; lenient returns whatever the regex's last match is).
* **CRLF line endings**: the regex wants ``\n`` immediately after the tag, so ```` ```python\r\n ````
  opens no block and a fully CRLF response has **no** blocks, for both rules (the authors' behaviour)
  unless ``extract_strict(..., normalize_newlines=True)``. Policies decoded by our tokenizers emit ``\n``.
  With an LF fence line and CRLF inside the block, both rules find the block; the trailing ``\r`` goes
  with ``strip()`` and ``ast.parse`` accepts interior ``\r\n``.
* **Multiple blocks**: strict -> ""; lenient -> the last one.
* **Empty or whitespace/indentation-only block**: the stripped block is "" (``ast.parse("")``
  succeeds), so both rules return "", which is ε for strict.
* **Stripping** uses ``str.strip()``: leading indentation of the first line is removed too, which can
  turn an indented method body into a top-level one (still the paper's rule).
"""
from __future__ import annotations

import ast
import re
import warnings

FENCE_RE = re.compile(r"```(?:\w+)?\n(.*?)```", re.DOTALL)

__all__ = ["FENCE_RE", "find_blocks", "extract_strict", "extract_lenient", "is_valid_python"]


def find_blocks(response: str) -> list[str]:
    """All fenced blocks as the paper's regex finds them (unstripped)."""
    return FENCE_RE.findall(response or "")


def is_valid_python(code: str) -> bool:
    """True when ``ast.parse`` accepts ``code`` (any exception, including SyntaxWarning-as-error, -> False)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code)
        return True
    except Exception:  # SyntaxError, ValueError (null bytes), RecursionError, MemoryError ...
        return False


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def extract_strict(response: str, check_ast: bool = True, normalize_newlines: bool = False) -> str:
    """The paper's extractor: exactly one fenced block that parses as Python, else ``""`` (ε)."""
    text = _normalize(response or "") if normalize_newlines else (response or "")
    blocks = FENCE_RE.findall(text)
    if len(blocks) != 1:
        return ""
    code = blocks[-1].strip()
    if check_ast and not is_valid_python(code):
        return ""
    return code


def extract_lenient(response: str) -> str:
    """The eval extractor (the authors' ``extract_code_from_model_test``): the last block the paper's regex
    finds, stripped; ``""`` if none."""
    blocks = FENCE_RE.findall(response or "")
    return blocks[-1].strip() if blocks else ""
