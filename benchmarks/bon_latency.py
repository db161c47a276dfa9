"""Best-of-N selection latency: CodeScaler RM reranking vs CURE-style unit-test reranking (recipe: "Best-of-N").

Paper claim: comparable accuracy at ~10x lower latency. This script runs stage 05 (``cskit.bon``) once,
in a fresh run directory, on a few evaluation problems of the demo profile and prints, at N = 8 and 16,
the mean per-problem *selection* latency of each selector and the ratio unit tests / RM (goal >= 10x):

    .venv/bin/python benchmarks/bon_latency.py                       # demo profile, smollm2-135m
    .venv/bin/python benchmarks/bon_latency.py --model tiny-qwen3    # no prepared assets needed

RM selection = scoring the first N candidates in one scorer call (after a warm-up; as in the stage, code
without a strict extraction is not sent to the RM -- ``--score-all`` scores all N, the conservative cost).
Unit-test selection = the policy writing ``--num-tests`` tests (default 16, CURE's BoN default; one timed
generate call with M samples) + the sandbox running the N x M (candidate, test) pairs, summed over
executions (one core). Generation of the candidates is the same for both and is reported separately.
With ``--run-dir`` an earlier run's candidates and tests are reused (their generation times are the ones
measured when they were generated); without it everything is measured afresh.

On CPU the ratio depends strongly on M and on how many candidates have valid code, because an RM forward
pass over N x (question + code) tokens is compute-bound there, while test generation is a short decode;
on a GPU the RM pass is far cheaper relative to decoding (measured on one H200 with transformers: an 8B-shaped
RM scores 16 x 1024 tokens in 0.52 s, generating 16 x 256 tokens takes about 20 s).

Without ``--rm`` the RM is the policy backbone with an untrained
score head: the latency is that of a real CodeScaler-style RM of the same size, but its accuracy is not
meaningful (pass ``--rm outputs/<run>/models/rm`` for a trained one).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="demo")
    ap.add_argument("--model", default=None, help="policy (default: the profile's policy_model, smollm2-135m on demo)")
    ap.add_argument("--rm", default="", help="trained RM dir; default: untrained head on the policy backbone")
    ap.add_argument("--n", default="8,16", help="N values (candidates sampled once at the max)")
    ap.add_argument("--problems", type=int, default=6, help="evaluation problems (0 = the profile's cap)")
    ap.add_argument("--num-tests", type=int, default=16,
                    help="generated tests per problem (default 16 = CURE's BoN default; 0 = the profile's "
                         "bon_num_tests)")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="default: the profile's eval_max_new_tokens")
    ap.add_argument("--device", default=None)
    ap.add_argument("--run-dir", default="", help="default: a fresh temporary directory (nothing cached)")
    ap.add_argument("--json", default="", help="also write the numbers to this JSON file")
    ap.add_argument("--score-all", action="store_true",
                    help="send all N candidates to the RM, even those without strictly extracted code (the "
                         "conservative, slowest RM cost); default: the stage's rule, invalid code is not scored")
    args = ap.parse_args(argv)

    from cskit.bon import latency_ratios, run_best_of_n
    from cskit.config import load_config, open_run
    from cskit.models import resolve_model

    over = {"bon_n_values": args.n, "progress": False}
    if args.model:
        over["policy_model"] = args.model
    if args.problems:
        over["max_eval_problems"] = args.problems
    if args.num_tests:
        over["bon_num_tests"] = args.num_tests
    if args.max_new_tokens:
        over["eval_max_new_tokens"] = args.max_new_tokens
    if args.device:
        over["device"] = args.device
    try:
        cfg = load_config(args.profile, over)
        resolve_model(cfg.policy_model)
    except FileNotFoundError as e:
        print(f"{e}\n(or run with --model tiny-qwen3)", file=sys.stderr)
        return 2
    from cskit.models import pick_device
    from cskit.bon import scorer_class

    RewardScorer = scorer_class()

    device = pick_device(cfg.device)
    rm_src = args.rm or resolve_model(cfg.policy_model)
    scorer = RewardScorer(rm_src, max_length=int(cfg.rm_max_length), batch_size=int(cfg.rm_score_batch_size),
                          device=device, seed=int(cfg.seed))
    tmp = None
    if not args.run_dir:
        tmp = tempfile.TemporaryDirectory(prefix="cskit-bon-bench-")
    run = open_run(args.run_dir or tmp.name, args.profile)
    t0 = time.perf_counter()
    m = run_best_of_n(cfg, run, rm=scorer, rm_score_invalid=args.score_all)
    wall = time.perf_counter() - t0
    import pandas as pd

    s = pd.read_parquet(run.data / "bon_summary.parquet")
    ratio = latency_ratios(s)
    ratio_total = latency_ratios(s, column="total_s")
    rm_desc = f"trained {args.rm}" if args.rm else f"untrained head on {cfg.policy_model}"
    print(f"\nBest-of-N latency, profile={args.profile} policy={cfg.policy_model} rm={rm_desc}"
          f" device={device} problems={m['problems']} tests/problem={cfg.bon_num_tests} "
          f"(parsed {m['generated_tests']['parsed']}/{m['generated_tests']['samples']}) wall={wall:.0f}s")
    print(f"{'N':>3} {'selector':<16} {'accuracy':>8} {'gen s':>8} {'select s':>9} {'total s':>8}")
    for r in s[s.selector.isin(["rm", "unit_tests", "vote", "random_expected", "oracle"])].itertuples():
        print(f"{r.N:>3} {r.selector:<16} {r.accuracy:>8.3f} {r.generation_s:>8.2f} {r.selection_s:>9.3f} "
              f"{r.total_s:>8.2f}")
    for n in sorted(ratio):
        print(f"N={n:<3} selection latency unit tests / RM = {ratio[n]:.1f}x (goal >= 10x); "
              f"total incl. generation = {ratio_total[n]:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"selection_ratio": ratio, "total_ratio": ratio_total, "metrics": m},
                                              indent=2, default=str))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
