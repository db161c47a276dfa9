"""Cells of ``notebooks/05_best_of_n.ipynb`` (title + thin calls into cskit); ``tools/make_notebook.py`` builds it."""
from __future__ import annotations

NAME = "05_best_of_n"
TITLE = """# 05 · Best-of-N: CodeScaler RM reranking vs unit-test reranking

N candidates per problem (`bon_problems`, default the evaluation problems) are sampled once (at the largest of `bon_n_values`, timed) and every
selector reranks the same first N (spec §7): the CodeScaler RM (argmax over strictly extracted code, one
forward pass each), CURE-style generated unit tests (the policy writes `bon_num_tests` tests, every candidate
runs every test in the sandbox, most passes wins), majority vote by execution behaviour, random and the
oracle. Accuracy is graded on the real tests; latency is split into generation and selection.
Paper claim: accuracy comparable to CURE at ~10x lower latency."""
CELLS = [
    ("code", "from cskit.bon import run_best_of_n\nmetrics = run_best_of_n(cfg, run)\n"
             "{k: metrics[k] for k in ('problems', 'n_values', 'selection_latency_ratio_unit_tests_over_rm',\n"
             "                         'candidates', 'generated_tests')}"),
    ("code", "import pandas as pd\nfrom cskit.plots import bon as plots\n"
             "summary = pd.read_parquet(run.data / 'bon_summary.parquet')\nsummary.round(3)"),
    ("code", "plots.accuracy_vs_n(summary, run.figures / 'bon_accuracy_vs_n.png');"),
    ("code", "plots.latency_bars(summary, run.figures / 'bon_latency.png');"),
    ("code", "plots.accuracy_vs_latency(summary, run.figures / 'bon_accuracy_vs_latency.png');"),
    ("code", "selections = pd.read_parquet(run.data / 'bon_selections.parquet')\n"
             "selections[selections.N == selections.N.max()].pivot(index='problem_id', columns='selector', "
             "values='correct')"),
    ("code", "tests = pd.read_parquet(run.data / 'bon_tests.parquet')\n"
             "tests[['problem_id', 'ok', 'drop_reason', 'test_input', 'test_output']].head(10)"),
]
