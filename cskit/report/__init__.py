"""Stage 07: the reproduction report -- every stage's results in tables and figures, the paper's numbers
(:mod:`cskit.report.paper`, labelled "paper") beside this run's, one shareable HTML.

``run_report(cfg, run)`` is the stage.
"""
from cskit.report.paper import PAPER_BON_CLAIM, PAPER_RL_DELTAS, PAPER_RL_ROW, PAPER_RMBENCH, PAPER_SCALING
from cskit.report.stage import (STAGES, collect_results, figures_html, overview_table, report_tables, rl_deltas,
                                rl_table, run_info, run_report, stage_links, summary_markdown, tables_html)

__all__ = ["PAPER_BON_CLAIM", "PAPER_RL_DELTAS", "PAPER_RL_ROW", "PAPER_RMBENCH", "PAPER_SCALING", "STAGES",
           "collect_results", "figures_html", "overview_table", "report_tables", "rl_deltas", "rl_table", "run_info",
           "run_report", "stage_links", "summary_markdown", "tables_html"]
