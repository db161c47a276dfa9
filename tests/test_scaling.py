"""cskit.rl.scaling: test-free / weak-test pools, the keys, GRPO on kind-none problems, a tiny run."""
from __future__ import annotations

import pytest

from cskit.config import ConfigError, Run, load_config
from cskit.problems import bundled_problems, hide_tests, load_problems
from cskit.rl.scaling import (build_problem_sets, count_tests, out_name, scaling_config, scaling_rows,
                           weaken_tests)


def _smoke(**kw):
    return load_config("smoke", kw)


def test_keys_are_declared_and_validated():
    for prof in ("smoke", "demo", "paper-qwen3-8b"):
        cfg = load_config(prof)
        assert isinstance(cfg.scaling_enabled, bool) and cfg.scaling_weak_tests_keep >= 0
        assert scaling_rows(cfg)
    with pytest.raises(ConfigError, match="scaling_rl_steps"):
        load_config("smoke", {"scaling_rl_steps": "many"})
    with pytest.raises(ConfigError, match="did you mean"):
        load_config("smoke", {"scaling_testfree_problem": "bundled"})
    with pytest.raises(ValueError, match="unknown row"):
        scaling_rows(_smoke(scaling_methods="verified,bogus"))


def test_scaling_config_overrides_only_the_run_sizes():
    cfg = _smoke(scaling_rl_steps=3, scaling_max_completion_length=8, scaling_rl_eval_steps=0,
                 scaling_max_eval_problems=1)
    s = scaling_config(cfg)
    assert (s.rl_steps, s.rl_max_completion_length, s.rl_eval_steps, s.max_eval_problems) == (3, 8, 0, 1)
    assert cfg.rl_steps == 2 and s.rl_learning_rate == cfg.rl_learning_rate
    same = scaling_config(_smoke(scaling_rl_steps=0, scaling_max_completion_length=0, scaling_rl_eval_steps=-1))
    assert all(getattr(same, k) == getattr(cfg, k) for k in cfg.keys() if k.startswith("rl_"))
    # a row identical to a stage-04 run shares its model dir; others get a settings+pool hash
    base = _smoke(scaling_rl_steps=0, scaling_max_completion_length=0, scaling_rl_eval_steps=-1)
    assert out_name("verified", base, scaling_config(base), []) == "policy-codescaler"
    assert out_name("untrained_rm", base, scaling_config(base), []) == "policy-untrained_rm"
    a = out_name("testfree", cfg, s, bundled_problems()[:2])
    assert a.startswith("scaling-testfree-") and a != out_name("testfree", cfg, s, bundled_problems()[:3])


def test_pools_hide_tests_and_never_overlap_evaluation():
    cfg = _smoke(scaling_testfree_max=0)
    sets = build_problem_sets(cfg)
    tf, weak = sets["testfree"], sets["weak"]
    assert tf and all(p.kind == "none" and not p.tests and p.metadata.get("tests_hidden") for p in tf)
    held = {p.id for p in sets["val"]} | {p.id for ps in sets["benchmarks"].values() for p in ps}
    stage04_eval = {p.id for p in load_problems(cfg.eval_problems, cfg.max_eval_problems, cfg.seed)}
    train = {p.id for p in sets["verified"]}
    for pool in (tf, weak):
        ids = {p.id for p in pool}
        assert not ids & held and not ids & stage04_eval and not ids & train
    # the same statements in both pools; every weak problem keeps exactly one test
    assert [p.id for p in tf] == [p.id for p in weak]
    assert all(count_tests(p) == 1 and p.metadata["tests_weakened"] for p in weak)
    info = sets["pools"]["weak"]
    assert info["tests_after"] == len(weak) < info["tests_before"]
    assert sets["pools"]["testfree"]["dropped_overlap"] >= len(train)
    capped = build_problem_sets(_smoke(scaling_testfree_max=3))
    assert len(capped["testfree"]) == len(capped["weak"]) == 3


def test_demo_pool_is_bundled_and_humaneval_without_eval_problems():
    cfg = load_config("demo")
    sets = build_problem_sets(cfg)
    evaluated = {p.id for ps in sets["benchmarks"].values() for p in ps}
    evaluated |= {p.id for p in load_problems(cfg.eval_problems.split(",")[1], cfg.max_eval_problems, cfg.seed)}
    ids = {p.id for p in sets["testfree"]}
    assert ids and not ids & evaluated and not ids & {p.id for p in sets["verified"]}
    assert {p.source for p in sets["testfree"]} <= {"bundled", "humaneval"}


def test_weaken_humaneval_check_keeps_one_assert_and_still_grades():
    from cskit.sandbox import grade

    he = load_problems("humaneval")[0]
    assert count_tests(he) == 7
    weak = weaken_tests(he, 1)
    assert count_tests(weak) == 1 and weak.tests[0].input.count("assert") == 1
    assert weak.metadata["n_tests_original"] == 7 and he.tests[0].input.count("assert") == 7
    assert grade(weak, he.solutions[0]).passed
    # a wrong answer that happens to satisfy the one kept test now passes: the weakness is real
    cheat = he.starter_code + "    return True\n"
    assert grade(weak, cheat).passed and not grade(he, cheat).passed
    b = next(p for p in bundled_problems() if len(p.tests) > 1)
    assert weaken_tests(b, 1).tests == b.tests[:1] and weaken_tests(b, 0) is b
    with pytest.raises(ValueError, match="no tests"):
        weaken_tests(b.without_tests(), 1)


# --- GRPO on problems without tests (tiny models) -------------------------------------------------------------


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    pytest.importorskip("trl")
    from cskit.models import build_tiny_model

    root = tmp_path_factory.mktemp("scaling")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSKIT_CACHE", str(root / "cache"))
        run = Run(root / "run").ensure()
        build_tiny_model(run.models / "rm", head="seqcls", seed=1)
        yield run


def _rl_cfg(**kw):
    over = dict(rl_steps=1, rl_save_steps=0, rl_eval_steps=0, rl_max_completion_length=8, sandbox_workers=1,
                progress=False, rl_shaping="softplus_nogate")
    over.update(kw)
    return load_config("smoke", over)


def test_codescaler_grpo_trains_on_problems_without_tests(env):
    from cskit.rl import train_grpo

    verified = bundled_problems("train")[:1]
    testfree = hide_tests(bundled_problems("train")[1:2])
    assert [p.kind for p in testfree] == ["none"]
    # ungated shaping: the RM scores every completion, those of the test-free problem included
    res = train_grpo(_rl_cfg(), env, "codescaler", "policy-testfree", problems=verified + testfree,
                     val_problems=[])
    assert res["n_train_prompts"] == 2 and [r["rl_step"] for r in res["steps"]] == [1]
    step = res["steps"][0]
    # softplus(score) > 0 for every completion; the two problems' questions score differently
    assert step["reward_mean"] > 0 and step["reward_std"] > 0
    assert (env.models / "policy-testfree" / "config.json").exists()


def test_execution_reward_refuses_a_set_with_test_free_problems(env):
    from cskit.rl.rewards import NoTestsError
    from cskit.rl.grpo import build_reward, train_grpo

    probs = bundled_problems("train")[:1] + hide_tests(bundled_problems("train")[1:2])
    with pytest.raises(NoTestsError, match="no tests"):
        build_reward("execution", _rl_cfg(), env, probs, "cpu")
    with pytest.raises(NoTestsError):
        train_grpo(_rl_cfg(), env, "execution", "policy-never", problems=probs, val_problems=[])
    assert not (env.models / "policy-never").exists()


@pytest.mark.slow
def test_run_scaling_smoke(env):
    from cskit.rl import plots_scaling as plots
    from cskit.runinfo import read_stage_results
    from cskit.rl.scaling import pools_frame, run_scaling, scaling_frame

    cfg = load_config("smoke", dict(eval_k=2, eval_max_new_tokens=8, sandbox_workers=1, progress=False))
    m = run_scaling(cfg, env)
    assert m["enabled"] and m["rows"] == ["verified", "testfree", "weak_tests", "untrained_rm"]
    assert list(m["table"]) == ["base", "verified", "testfree", "weak_tests", "untrained_rm"]
    assert all(set(r) == {"bundled-val", "Average"} for r in m["table"].values())
    assert m["n_train_problems"]["testfree"] == m["n_verified"] + m["pools"]["testfree"]["kept"]
    assert m["rewards"]["weak_tests"] == "execution" and m["rewards"]["untrained_rm"] == "untrained_rm"
    # every row with n and an interval, and paired against the base model and the verified-only row
    assert set(m["pooled"]) == set(m["table"]) and all(p["n"] >= 1 and len(p["ci"]) == 2 for p in m["pooled"].values())
    assert {"verified - base", "testfree - base", "testfree - verified", "untrained_rm - verified"} <= set(m["comparisons"])
    for c in m["comparisons"].values():
        assert c["all"]["n"] >= 1 and c["all"]["ci"][0] <= c["all"]["ci"][1]
        assert c["all"]["wording"]
    assert scaling_frame(m)["all problems: avg@k % [95% CI] (n)"].str.contains("n = ").all()
    saved = read_stage_results(env, "04b_scaling")
    assert saved["metrics"]["table"] == m["table"]
    assert len(scaling_frame(m)) == 5 and set(pools_frame(m).index) == {"testfree", "weak"}
    plots.plot_scaling_eval(m, env.figures / "s.png")
    plots.plot_scaling_training(m, env.figures / "t.png")
    assert (env.figures / "s.png").exists() and (env.figures / "t.png").exists()
    again = run_scaling(cfg, env)  # everything cached
    assert all(t.get("cached") for t in again["training"].values()) and again["table"] == m["table"]
    off = run_scaling(load_config("smoke", dict(scaling_enabled=False)), env)
    assert off["enabled"] is False and off["table"] == {}
    plots.plot_scaling_eval(off)
