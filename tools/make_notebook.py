"""Write a stage notebook from a list of (kind, source) cells: ``python tools/make_notebook.py``.

Keeps the committed notebooks output-free and identical in structure: a title, the single
``parameters`` cell, then thin calls into cskit. Each stage's cells are declared in STAGES below.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

PARAMS = '''profile = "smoke"   # params/<profile>.yaml
run_dir = ""        # outputs/<run>; empty: outputs/<profile>-dev
overrides = {}      # any key of cskit/config.py SCHEMA, e.g. {"rollout_n": 4}'''

SETUP = '''from cskit.config import load_config, open_run
cfg = load_config(profile, overrides)
run = open_run(run_dir, profile)'''


def build(path: Path, title_md: str, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(title_md))
    nb.cells.append(nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}))
    nb.cells.append(nbformat.v4.new_code_cell(SETUP))
    for kind, src in cells:
        nb.cells.append(nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src))
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i:02d}"
    nbformat.write(nb, path)


STAGES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "01_rollouts": ("""# 01 · Rollouts: sample, extract, grade

The policy writes `rollout_n` answers per training problem (the paper's on-policy rollouts, spec §1).
Each answer goes through strict extraction (exactly one fenced block that parses, spec §3) and lenient
extraction (last block), then the sandbox grades it against the problem's tests. One row per sample
lands in `data/rollouts.parquet`; the stage resumes where it stopped.""", [
        ("code", "from cskit.rollouts import run_rollouts\nmetrics = run_rollouts(cfg, run)\nmetrics"),
        ("code", "import pandas as pd\nfrom cskit.plots import rollouts as plots\n"
                 "df = pd.read_parquet(run.data / 'rollouts.parquet')\n"
                 "plots.rollout_overview(df, run.figures / 'rollouts_overview.png');"),
        ("code", "plots.verdict_bars(df, run.figures / 'rollouts_verdicts.png');"),
        ("code", "df.groupby('problem_id')[['valid', 'passed', 'passed_lenient', 'pass_fraction', 'n_tokens']]"
                 ".mean().sort_values('passed', ascending=False).round(2)"),
        ("code", "df.loc[df.passed, ['problem_id', 'code_strict']].head(3)"),
    ]),
    "02_pairs": ("""# 02 · Preference pairs

Within each problem, a positive passes every test and a negative fails at least one (spec §1). Options:
cap per problem, hard negatives first, whitespace dedup, reference positives, unaligned and off-policy
pairs. The split is by problem. Columns follow CodeScalerPair-51K (`question_content`, `code_pos`, `code_neg`).""", [
        ("code", "from cskit.pairs import run_pairs\nmetrics = run_pairs(cfg, run)\nmetrics"),
        ("code", "import pandas as pd\nfrom cskit.plots import rollouts as plots\n"
                 "train = pd.read_parquet(run.data / 'pairs' / 'train.parquet')\n"
                 "val = pd.read_parquet(run.data / 'pairs' / 'val.parquet')\n"
                 "plots.pairs_overview(train, val, run.figures / 'pairs_overview.png');"),
        ("code", "train[['problem_id', 'pair_source', 'pos_pass_fraction', 'neg_pass_fraction']].head(10)"),
    ]),
}

def normalise_parameters(path: Path) -> bool:
    """Rewrite a notebook's ``parameters`` cell to the canonical one; True if it changed."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1 or cells[0].source == PARAMS:
        return False
    cells[0].source = PARAMS
    nbformat.write(nb, path)
    return True


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent / "notebooks"
    if sys.argv[1:] == ["--normalise"]:
        for p in sorted(root.glob("[0-9][0-9]_*.ipynb")):
            if normalise_parameters(p):
                print("normalised", p)
        sys.exit(0)
    names = sys.argv[1:] or list(STAGES)
    for name in names:
        title, cells = STAGES[name]
        build(root / f"{name}.ipynb", title, cells)
        print("wrote", root / f"{name}.ipynb")
