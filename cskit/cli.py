"""The ``cskit`` command.

  cskit run --profile demo [--stages 01,02] [--run NAME] [-p key=value ...] [--restart]
  cskit params [--profile NAME]         every parameter, its default and meaning (or a profile resolved)
  cskit stages                          the stage notebooks in order
  cskit prepare-assets [--force]        convert the offline demo model (SmolLM2-135M GGUF) once
  cskit grade --problems F --samples F --out F   grade samples in the sandbox
  cskit problems SPEC [--validate] [--mutation-check] [--pass-rate MODEL [-n 8]]   load, check, size a source
  cskit rl-config --profile P [--world-size W]   the GRPOConfig trl receives, every field, as JSON
  cskit serve-rm --rm PATH_OR_HUB_ID [--host H] [--port P] [--token-file F]   the RM reward over HTTP
"""
from __future__ import annotations

import argparse
import json
import os
import sys


def _cmd_run(args) -> int:
    from cskit.config import ConfigError, parse_override
    from cskit.pipeline import StageFailed, run_pipeline

    try:
        overrides = dict(parse_override(p) for p in args.param)
        manifest = run_pipeline(args.profile, run=args.run, stages=args.stages, overrides=overrides,
                                html=not args.no_html, restart=args.restart, cell_timeout=args.cell_timeout)
    except (ConfigError, StageFailed, FileNotFoundError) as e:
        print(f"cskit run: {e}", file=sys.stderr)
        return 1
    root = manifest["run_dir"]
    report = os.path.join(root, "html", "07_report.html")
    stage_s = sum(float(st.get("duration_s") or 0) for st in manifest.get("stages", {}).values())
    print(f"[cskit] run '{manifest['run']}' finished: {root} (stage time {stage_s / 60:.1f} min, per stage in "
          "manifest.json)")
    if os.path.exists(report):
        print(f"[cskit] report: {report}")
        shared = report.replace(".html", ".results.html")
        if os.path.exists(shared):
            print(f"[cskit] report without code cells (to share): {shared}")
    return 0


def _cmd_params(args) -> int:
    from cskit.config import describe_params, load_config

    if args.profile:
        print(json.dumps(load_config(args.profile).to_dict(), indent=2))
    else:
        print(describe_params())
    return 0


def _cmd_stages(args) -> int:
    from cskit.pipeline import discover_stages

    for s in discover_stages():
        print(s.name, s.path)
    return 0


def _cmd_prepare_assets(args) -> int:
    from cskit.models import prepare_assets

    path = prepare_assets(force=args.force)
    print(f"[cskit] demo model ready: {path}")
    return 0


def _cmd_problems(args) -> int:
    from collections import Counter

    from cskit.problems import load_problems

    from cskit.problems import ProblemFormatError, SourceUnavailableError

    try:
        problems = load_problems(args.spec, limit=args.limit)
    except (ProblemFormatError, SourceUnavailableError, FileNotFoundError, ValueError) as e:
        print(f"cskit problems: {e}", file=sys.stderr)
        return 2
    kinds = Counter(p.kind for p in problems)
    splits = Counter(p.split for p in problems)
    print(f"{len(problems)} problems; kinds {dict(kinds)}; splits {dict(splits)}")
    if args.validate:
        from cskit.sandbox import grade_many

        items = [(p, s) for p in problems for s in p.solutions[:1] if p.has_tests]
        res = grade_many(items, progress=True)
        bad = [(p.id, r.verdict) for (p, _), r in zip(items, res) if not r.passed]
        print(f"reference solutions passing: {len(items) - len(bad)}/{len(items)}")
        for pid, verdict in bad:
            print(f"  FAIL {pid}: {verdict}")
        if bad:
            return 1
    if args.mutation_check:
        from cskit.problems.mutation import mutation_main

        rc = mutation_main(problems, threshold=args.threshold, max_mutants_per_problem=args.max_mutants,
                           agreement_inputs=args.agreement_inputs, seed=args.seed, json_path=args.json)
        if rc:
            return rc
    if args.pass_rate:
        from cskit.rollouts.passrate import pass_rate_main

        return pass_rate_main(problems, args.pass_rate, n=args.n, max_new_tokens=args.max_new_tokens,
                              seed=args.seed, json_path=args.json)
    return 0


def _cmd_rl_config(args) -> int:
    """Print the GRPOConfig the kit builds for a profile, every field, as JSON."""
    from cskit.config import ConfigError, load_config, parse_override

    try:
        cfg = load_config(args.profile, dict(parse_override(p) for p in args.param))
    except ConfigError as e:
        print(f"cskit rl-config: {e}", file=sys.stderr)
        return 2
    from cskit.rl.grpo import grpo_fields

    device = "cuda" if cfg.device == "cuda" or cfg.rl_use_vllm else "cpu"
    fields, layout = grpo_fields(cfg, args.output_dir, device, world_size=args.world_size)
    print(json.dumps({"profile": cfg.profile, "world_size": args.world_size, "device": device, "layout": layout,
                      "GRPOConfig": fields}, indent=2, sort_keys=False, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "grade":  # the sandbox's own argument parser
        from cskit.grade_cli import main as grade_main

        return grade_main(argv[1:])
    if argv and argv[0] == "serve-rm":  # the RM server's own argument parser
        from cskit.serve.cli import main as serve_main

        return serve_main(argv[1:])
    ap = argparse.ArgumentParser(prog="cskit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the stage notebooks with papermill")
    r.add_argument("--profile", default="demo")
    r.add_argument("--run", default=None, help="run name (outputs/<run>); default: the profile name")
    r.add_argument("--stages", default=None, help="e.g. 01,02 or 01-03 (default: all)")
    r.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    r.add_argument("--restart", action="store_true", help="ignore completed stages and start over")
    r.add_argument("--no-html", action="store_true")
    r.add_argument("--cell-timeout", type=int, default=None, help="seconds per notebook cell")
    r.set_defaults(fn=_cmd_run)
    p = sub.add_parser("params", help="list parameters or show a resolved profile")
    p.add_argument("--profile", default=None)
    p.set_defaults(fn=_cmd_params)
    s = sub.add_parser("stages", help="list stage notebooks")
    s.set_defaults(fn=_cmd_stages)
    a = sub.add_parser("prepare-assets", help="convert the offline demo model once")
    a.add_argument("--force", action="store_true")
    a.set_defaults(fn=_cmd_prepare_assets)
    pr = sub.add_parser("problems", help="load and summarise a problem source")
    pr.add_argument("spec")
    pr.add_argument("--limit", type=int, default=0)
    pr.add_argument("--validate", action="store_true", help="grade reference solutions in the sandbox")
    pr.add_argument("--mutation-check", action="store_true",
                    help="mutate each reference (AST), grade the non-equivalent mutants; exit 1 if a problem or "
                         "family kills < --threshold")
    pr.add_argument("--max-mutants", type=int, default=40)
    pr.add_argument("--agreement-inputs", type=int, default=200, help="random inputs to detect equivalent mutants")
    pr.add_argument("--threshold", type=float, default=0.9)
    pr.add_argument("--pass-rate", metavar="MODEL", default=None,
                    help="sample MODEL n times per problem and print the distribution of per-problem pass rates")
    pr.add_argument("-n", type=int, default=8, help="samples per problem for --pass-rate")
    pr.add_argument("--max-new-tokens", type=int, default=512)
    pr.add_argument("--seed", type=int, default=0)
    pr.add_argument("--json", default=None, help="also write the report as JSON")
    pr.set_defaults(fn=_cmd_problems)
    rc = sub.add_parser("rl-config", help="print the GRPOConfig the kit builds for a profile, as JSON")
    rc.add_argument("--profile", default="demo")
    rc.add_argument("--world-size", type=int, default=1, help="number of training processes (GPUs)")
    rc.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    rc.add_argument("--output-dir", default="outputs/<run>/models/policy-<method>.ckpt", help=argparse.SUPPRESS)
    rc.set_defaults(fn=_cmd_rl_config)
    sub.add_parser("grade", help="grade samples in the sandbox (see `cskit grade --help`)")
    sub.add_parser("serve-rm", help="serve the CodeScaler reward over HTTP (see `cskit serve-rm --help`)")
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
