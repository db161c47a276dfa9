"""The registry of procedural families: every builder of :mod:`.text`, :mod:`.lists`, :mod:`.numbers` (level
"standard") and :mod:`.basic` (level "basic"), by name.

The families themselves (statement, parameter sampler, reference, edge-case generator) live in those modules;
:mod:`.base` holds the :class:`Family` record and the shared random helpers.
"""
from __future__ import annotations

from cskit.problems.procedural.base import Family
from cskit.problems.procedural.basic import BUILDERS as BASIC_BUILDERS
from cskit.problems.procedural.lists import BUILDERS as LIST_BUILDERS
from cskit.problems.procedural.numbers import BUILDERS as NUMBER_BUILDERS
from cskit.problems.procedural.text import BUILDERS as TEXT_BUILDERS

__all__ = ["FAMILIES", "FAMILY_BUILDERS", "Family"]

FAMILY_BUILDERS = [*TEXT_BUILDERS, *LIST_BUILDERS, *NUMBER_BUILDERS, *BASIC_BUILDERS]

FAMILIES: dict[str, Family] = {}
for _b in FAMILY_BUILDERS:
    _f = _b()
    assert _f.name not in FAMILIES, _f.name
    FAMILIES[_f.name] = _f
