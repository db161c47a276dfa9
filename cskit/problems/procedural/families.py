"""The registry of procedural families: every builder of :mod:`.text`, :mod:`.lists`, :mod:`.numbers` (level
"standard") and :mod:`.basic` (level "basic"), by name.

The families themselves (statement, parameter sampler, reference, edge-case generator) live in those modules;
:mod:`.base` holds the :class:`Family` record and the shared random helpers.
"""
from __future__ import annotations

from cskit.problems.procedural import basic, lists, numbers, text
from cskit.problems.procedural.base import Family

__all__ = ["FAMILIES", "FAMILY_BUILDERS", "Family"]

FAMILY_BUILDERS = [*text.BUILDERS, *lists.BUILDERS, *numbers.BUILDERS, *basic.BUILDERS]

FAMILIES: dict[str, Family] = {}
for _b in FAMILY_BUILDERS:
    _f = _b()
    assert _f.name not in FAMILIES, _f.name
    FAMILIES[_f.name] = _f
