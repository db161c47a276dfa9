"""The `cskit` command: problems (validate, mutation check), bad input without tracebacks, rl-config."""
import subprocess
import sys


def _cskit(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "cskit.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_a_bad_problems_file_names_file_line_and_field_without_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "statement": "x", "kind": "stdio", "tests": [{"input": "1", "output": "1"}]}\n'
                   '{"id": "b", "statement": "y", "kind": "stdio", "tests": []}\nnot json\n')
    r = _cskit("problems", f"jsonl:{bad}", "--validate")
    assert r.returncode == 2, r.stderr
    assert "bad.jsonl:2" in r.stderr and "'tests'" in r.stderr and "Traceback" not in r.stderr


def test_procedural_source_and_mutation_check_from_the_command_line():
    r = _cskit("problems", "procedural:val:3:1", "--validate", "--mutation-check", "--max-mutants", "6",
               "--agreement-inputs", "20")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 problems" in r.stdout and "min kill share" in r.stdout
