"""cskit: a Jupyter-first research kit reproducing CodeScaler (arXiv 2602.17684).

An execution-free reward model for code, trained on preference pairs from on-policy rollouts
that unit tests labelled, then used as the GRPO reward and as a Best-of-N reranker.
Modules are small and have one concern each; see README.md for the map.
"""
__version__ = "0.1.0"
