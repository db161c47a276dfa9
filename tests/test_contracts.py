"""docs/contracts.md says only what is true: its column lists equal the constants in the code."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "contracts.md").read_text()


def _documented(constant: str) -> list[str]:
    """The backticked names listed after '(`<constant>`)' up to the next bullet or heading."""
    m = re.search(r"\(`" + re.escape(constant) + r"`\)[^:]*:(.*?)(?=\n- |\n## |\Z)", DOC, re.S)
    assert m, f"docs/contracts.md does not list {constant}"
    return re.findall(r"`([^`]+)`", m.group(1))


@pytest.mark.parametrize("constant", ["cskit.rollouts.ROLLOUT_COLUMNS", "cskit.pairs.PAIR_COLUMNS",
                                      "cskit.pairs.PAIR_SOURCES", "cskit.rm.score.PAIR_COLUMNS",
                                      "cskit.rl.grpo.STEP_COLUMNS", "cskit.bon.CANDIDATE_COLUMNS",
                                      "cskit.bon.TEST_COLUMNS", "cskit.bon.SELECTORS",
                                      "cskit.ablations.ABLATIONS", "cskit.rollouts.trajectory.TRAJECTORY_COLUMNS"])
def test_documented_columns_match_the_code(constant):
    import importlib

    module, name = constant.rsplit(".", 1)
    assert _documented(constant) == list(getattr(importlib.import_module(module), name))
