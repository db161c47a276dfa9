"""Write ``notebooks/04_rl.ipynb`` (no outputs) with the shared builder of ``tools/make_notebook.py``.

    .venv/bin/python tools/make_notebook_04_rl.py

The cells live here (owned by the RL stage) so that they can be folded into ``make_notebook.STAGES``
by the lead without changes.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_notebook import build  # noqa: E402

NAME = "04_rl"
TITLE = """# 04 · GRPO with the CodeScaler reward vs execution-based RL

The policy is trained with trl's GRPO on the CodeScaler reward (strict single-block + AST extraction, then
softplus of the stage-03 RM score, 0 for invalid code; spec §3, §4) and, from the same initial policy,
problems and seed, on each baseline of `rl_baselines` (binary execution reward, raw or untrained RM).
Settings follow the paper's verl recipe (spec §5: group size 8, clip 0.2/0.28, token-mean loss, no KL);
execution-based validation runs every `rl_eval_steps`. The base model and every trained policy are then
evaluated with avg@k on the eval benchmarks (spec §6)."""
CELLS = [
    ("code", "from cskit.rl import run_rl, steps_frame, eval_frame\nmetrics = run_rl(cfg, run)\n"
             "{k: metrics[k] for k in ('methods', 'n_train_problems', 'n_val_problems', 'benchmarks', 'metric')}"),
    ("md", "Evaluation table in the paper's shape: rows = methods incl. the base model, columns = benchmarks + "
           "average (`metric`, in %)."),
    ("code", "eval_frame(metrics)"),
    ("code", "from cskit.plots import rl as plots\n"
             "plots.plot_eval_table(metrics['table'], metrics['metric'], run.figures / '04_rl_eval.png');"),
    ("md", "Training curves per GRPO step: reward, validity rate of strict extraction, response length and the "
           "execution-based validation pass rate (step 0 = before training)."),
    ("code", "steps_frame(metrics).round(4)"),
    ("code", "plots.plot_training_curves(metrics, run.figures / '04_rl_training.png');"),
]

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "notebooks" / f"{NAME}.ipynb"
    build(out, TITLE, CELLS)
    print("wrote", out)
