"""Check or normalise the stage notebooks (they are the source; see cskit/notebook_contract.py).

  python tools/notebooks.py            check every notebooks/NN_*.ipynb against the contract (exit 1 if broken)
  python tools/notebooks.py --fix      strip outputs and execution counts first, then check
"""
from __future__ import annotations

import sys
from pathlib import Path

from cskit.notebook_contract import contract_problems, strip_outputs

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if "--fix" in argv:
        for p in paths:
            if strip_outputs(p):
                print("stripped outputs:", p.relative_to(ROOT))
    problems = [msg for p in paths for msg in contract_problems(p)]
    for msg in problems:
        print(msg, file=sys.stderr)
    print(f"{len(paths)} notebooks, {len(problems)} contract problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
