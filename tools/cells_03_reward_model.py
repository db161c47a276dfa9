"""Cells of ``notebooks/03_reward_model.ipynb`` (title + thin calls into cskit); ``tools/make_notebook.py`` builds it."""
from __future__ import annotations

NAME = "03_reward_model"
TITLE = """# 03 · Reward model: Bradley-Terry training and evaluation

The RM (a sequence-classification model with a scalar head, `rm_model`) is trained with trl's RewardTrainer on
the preference pairs of stage 02: loss -log σ(r(q, c⁺) − r(q, c⁻)), input = chat template over
`[user: question, assistant: code]` + EOS, right-truncated to `rm_max_length` (spec §2). It is then compared
with the untrained initial RM on held-out pairs (split by problem), by the negative's pass fraction, on the
score distributions and calibration of graded rollouts, and on RM-Bench-style style matrices (spec §8)."""
CELLS = [
    ("code", "from cskit.rm import run_reward_model, summary_table, rmbench_table\n"
             "metrics = run_reward_model(cfg, run)\n"
             "metrics['headline']"),
    ("code", "summary_table(metrics).round(3)"),
    ("code", "import pandas as pd\n"
             "{k: v for k, v in metrics['training'].items() if k not in ('log_history', 'eval')}"),
    ("code", "from cskit.plots import rm as plots\n"
             "plots.loss_curve(metrics);"),
    ("code", "plots.trained_vs_untrained(metrics);"),
    ("code", "plots.accuracy_by_neg_pass(metrics);"),
    ("code", "scores_path = run.data / 'rm_scores' / 'rollouts.parquet'\n"
             "scores = pd.read_parquet(scores_path) if scores_path.exists() else None\n"
             "plots.score_histograms(scores) if scores is not None else 'no rollouts scored';"),
    ("code", "plots.calibration(metrics);"),
    ("md", "RM-Bench accuracy (%): the paper's table (spec §8, from the model cards) beside this run's RMs. "
           "Offline, the run's rows come from the HumanEval code bench (canonical solution vs a mutant that fails "
           "its tests, in three styles), so only the code column and easy/normal/hard of code are comparable."),
    ("code", "rmbench_table(metrics)"),
]
