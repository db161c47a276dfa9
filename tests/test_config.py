"""Profiles: validation with file/line/key errors, overrides, comma lists, environment.yml/lock agreement."""
from pathlib import Path

import pytest
import yaml

from cskit.config import SCHEMA, ConfigError, load_config, parse_override, read_profile

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("profile", sorted(p.stem for p in (ROOT / "params").glob("*.yaml")))
def test_every_shipped_profile_loads(profile):
    cfg = load_config(profile)
    assert cfg.profile == profile
    assert set(cfg.keys()) == set(SCHEMA) | {"profile"}


def test_unknown_key_names_file_line_and_suggestion(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("seed: 1\nrolout_n: 4\n")
    with pytest.raises(ConfigError) as e:
        read_profile(p)
    msg = str(e.value)
    assert f"{p}:2" in msg and "rolout_n" in msg and "rollout_n" in msg


def test_wrong_type_is_an_error_with_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("seed: 1\n\nrollout_n: four\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:3: key 'rollout_n' expects int"):
        read_profile(p)


def test_bool_is_not_a_number_and_nested_values_rejected(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text("rollout_n: true\n")
    with pytest.raises(ConfigError, match="boolean"):
        read_profile(p)
    p.write_text("rollout_n:\n  a: 1\n")
    with pytest.raises(ConfigError, match="flat"):
        read_profile(p)
    p.write_text("seed: 1\nseed: 2\n")
    with pytest.raises(ConfigError, match="given twice"):
        read_profile(p)


def test_invalid_yaml_reports_line(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text("seed: 1\nfoo: [1, 2\n")
    with pytest.raises(ConfigError, match=r"b.yaml:\d+: invalid YAML"):
        read_profile(p)


def test_overrides_win_and_are_validated():
    cfg = load_config("smoke", {"rollout_n": 3}, temperature=0.2)
    assert cfg.rollout_n == 3 and cfg.temperature == 0.2
    with pytest.raises(ConfigError, match="unknown key 'n_sample'"):
        load_config("smoke", {"n_sample": 3})
    with pytest.raises(ConfigError, match="expects int"):
        load_config("smoke", {"rollout_n": "many"})
    with pytest.raises(ConfigError, match="must be one of"):
        load_config("smoke", {"device": "tpu"})


def test_cli_override_parsing_and_lists():
    assert parse_override("rollout_n=4") == ("rollout_n", 4)
    assert parse_override("pairs_dedup=false") == ("pairs_dedup", False)
    assert parse_override("policy_model=123") == ("policy_model", "123")
    with pytest.raises(ConfigError):
        parse_override("rollout_n")
    cfg = load_config("smoke", {"bon_n_values": "1, 4,16"})
    assert cfg.list("bon_n_values", int) == [1, 4, 16]


def test_missing_profile_lists_available():
    with pytest.raises(ConfigError, match="available: .*smoke"):
        load_config("nope")


def test_environment_yml_points_at_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_items = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-r requirements/lock-cpu.txt" in pip_items
    assert any(x.startswith("-e .") for x in pip_items)
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"] if isinstance(d, str))
    lock = (ROOT / "requirements" / "lock-cpu.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lock if "==" in line)
    assert pins["torch"] == "2.13.0" and pins["trl"] == "1.16.0" and pins["transformers"] == "5.17.0"
    assert all("+cpu" not in v for v in pins.values())


def test_ci_calls_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    assert "make test" in ci
