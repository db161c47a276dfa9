"""The kit's own easy problems: their definitions (``defs``), the builder (``build``) and ``problems.jsonl``."""
