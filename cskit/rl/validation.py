"""Execution validation during GRPO: a ``transformers.TrainerCallback`` that generates greedily on held-out
problems and grades the strictly extracted code in the sandbox (pass rate and validity rate per step).

Imports torch and transformers at import time: :mod:`cskit.rl.grpo` imports this module only inside
:func:`cskit.rl.grpo.train_grpo`.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import torch
from transformers import GenerationConfig, TrainerCallback


class ExecValidationCallback(TrainerCallback):
    """Greedy generation on held-out problems + sandbox grading, before training and every ``every`` optimiser
    steps (and at the end if the last step was not validated). Appends ``{"step", "val/pass_rate", "val/passed",
    "val/n", "val/pass_rate_ci_low", "val/pass_rate_ci_high" (95% Wilson), "val/valid_rate"}`` to
    ``state.log_history`` (so it is checkpointed and survives a resume).
    """

    def __init__(self, problems: Sequence[Any], tokenizer: Any, every: int, max_new_tokens: int, limits: Any = None,
                 workers: int = 1, batch_size: int = 8):
        self.problems = list(problems)
        self.tokenizer = tokenizer
        self.every = int(every)
        self.max_new_tokens = int(max_new_tokens)
        self.limits = limits
        self.workers = workers
        self.batch_size = max(1, int(batch_size))
        self._last_step = -1

    def _due(self, step: int) -> bool:
        return bool(self.problems) and self.every > 0 and step != self._last_step

    def on_step_begin(self, args, state, control, model=None, **kw):
        if state.global_step == 0 and self._due(0):
            self._validate(state, model)

    def on_step_end(self, args, state, control, model=None, **kw):
        if self._due(state.global_step) and state.global_step % self.every == 0:
            self._validate(state, model)

    def on_train_end(self, args, state, control, model=None, **kw):
        if self._due(state.global_step) and not any(
                h.get("step") == state.global_step and "val/pass_rate" in h for h in state.log_history):
            self._validate(state, model)

    def evaluate(self, model) -> dict[str, float]:
        from cskit.extract import extract_strict
        from cskit.prompts import render_policy_prompt
        from cskit.sandbox import grade_many

        tok = self.tokenizer
        was_training = model.training
        model.eval()
        gen_cfg = GenerationConfig(do_sample=False, max_new_tokens=self.max_new_tokens, pad_token_id=tok.pad_token_id,
                                   eos_token_id=model.generation_config.eos_token_id or tok.eos_token_id,
                                   use_cache=True)
        texts: list[str] = []
        try:
            device = next(model.parameters()).device
            for i in range(0, len(self.problems), self.batch_size):
                batch = [render_policy_prompt(tok, p) for p in self.problems[i:i + self.batch_size]]
                enc = tok(batch, return_tensors="pt", padding=True, padding_side="left",
                          add_special_tokens=False).to(device)
                with torch.no_grad():
                    out = model.generate(**enc, generation_config=gen_cfg)
                texts += tok.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        finally:
            if was_training:
                model.train()
        codes = [extract_strict(t) for t in texts]
        items = [(p, c) for p, c in zip(self.problems, codes) if c]
        graded = grade_many(items, limits=self.limits, workers=self.workers, progress=False) if items else []
        from cskit.stats import wilson_ci

        n, k = len(self.problems), sum(bool(r.passed) for r in graded)
        lo, hi = wilson_ci(k, n)   # greedy: one sample per problem, so problems are the independent items
        return {"val/pass_rate": k / n, "val/passed": k, "val/n": n, "val/pass_rate_ci_low": lo,
                "val/pass_rate_ci_high": hi, "val/valid_rate": len(items) / n}

    def _validate(self, state, model) -> None:
        if model is None:
            return
        t0 = time.perf_counter()
        res = self.evaluate(model)
        self._last_step = state.global_step
        if state.is_world_process_zero:
            state.log_history.append({**res, "val/time_s": round(time.perf_counter() - t0, 3),
                                      "step": state.global_step})
