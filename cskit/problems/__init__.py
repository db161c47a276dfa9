"""Problems: the ``Problem`` record, converters from public formats, hub/local sources and the bundled set.

``load_problems("bundled:train,humaneval")`` is the entry point (source specs in :mod:`cskit.problems.sources`);
``Problem``/``TestCase`` are the record (:mod:`cskit.problems.record`); the public-format converters live in
:mod:`cskit.problems.formats`. Nothing here runs candidate code (grading is :mod:`cskit.sandbox`'s job).
"""
from cskit.problems.record import (KINDS, Problem, ProblemFormatError, TestCase, load_problems_jsonl,
                                   problem_from_dict, save_problems_jsonl)
from cskit.problems.sources import (SOURCES, SourceUnavailableError, bundled_problems, hide_tests, humaneval_path,
                                    load_problems, load_source, read_rows)

__all__ = ["KINDS", "Problem", "ProblemFormatError", "TestCase", "load_problems_jsonl", "problem_from_dict",
           "save_problems_jsonl", "SOURCES", "SourceUnavailableError", "bundled_problems", "hide_tests",
           "humaneval_path", "load_problems", "load_source", "read_rows"]
