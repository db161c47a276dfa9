"""Cells of ``notebooks/04_rl.ipynb`` (title + thin calls into cskit); ``tools/make_notebook.py`` builds it."""
from __future__ import annotations

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
    ("md", """## Execution-free scaling: problems without tests, weak tests, the other RM (issue 8, spec §5)

The paper scales CodeScaler RL to synthetic problems that have no tests (v2: 44K problems, +14.64 over the
base model) and shows that execution RL on a big synthetic set whose tests miss corner cases loses to a small
verified set (KodCode 11.51 vs DeepCoder 14.41). From the same initial policy and seed (`scaling_*` keys,
`cskit.scaling`): CodeScaler RL on the verified problems; on verified + a test-free pool; execution RL on
verified + the same pool with its tests cut to `scaling_weak_tests_keep`; and RL with the *untrained* initial RM
through the same shaping (the other-RM baseline; paper profile: Skywork-Reward-V2 itself; on CPU profiles a
fresh random head on SmolLM2, near-meaningless). Every row is evaluated by execution on held-out benchmarks.

**The pool in the demo/smoke profiles** is built from the bundled and HumanEval problems with their tests
hidden from training; any problem used for training, validation or evaluation (by id or statement) is
dropped first, so no problem is both in the test-free pool and evaluated. Runs are a few GRPO steps, so
differences between rows are mostly noise here."""),
    ("code", "from cskit.scaling import run_scaling, scaling_frame, pools_frame\n"
             "from cskit.plots import scaling as splots\n"
             "scaling = run_scaling(cfg, run)\n"
             "{k: scaling.get(k) for k in ('enabled', 'rows', 'n_train_problems', 'benchmarks', 'settings', "
             "'same_eval_as_stage04')}"),
    ("md", "Pools: sources, problems loaded, dropped for overlap with training/validation/evaluation, kept; for the "
           "weak-test pool also the tests before and after weakening."),
    ("code", "pools_frame(scaling)"),
    ("md", "Evaluation (`metric`, %): rows = base model + each scaling run, columns = benchmarks + average "
           "(`results/04b_scaling.json`, key `metrics.table`)."),
    ("code", "scaling_frame(scaling)"),
    ("code", "splots.plot_scaling_eval(scaling, run.figures / '04b_scaling_eval.png');"),
    ("code", "splots.plot_scaling_training(scaling, run.figures / '04b_scaling_training.png');"),
]
