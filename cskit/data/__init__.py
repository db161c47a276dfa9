"""Package data: the bundled problem set (``bundled_problems.jsonl``) and the script that builds it."""
