"""Trainer callbacks of the train stage: progress lines in the pipeline's log format.

Replaces transformers' PrinterCallback (a raw dict every `logging_steps`: no step count, no time, no
ETA) with one line per logged step:

    07:12:05 tuneloop.train INFO train: step 10/58 (17%) loss 1.2345 lr 9.1e-04, 1 min 32 s elapsed, ETA 7 min 22 s
"""

from __future__ import annotations

import logging
import time

from transformers import TrainerCallback

from tuneloop.progress import Eta, duration

log = logging.getLogger("tuneloop.train")


class ProgressCallback(TrainerCallback):
    """step/total, loss, learning rate, elapsed and ETA on every log; validation loss; checkpoints."""

    def __init__(self, logger: logging.Logger = log):
        self.log = logger
        self.eta: Eta | None = None
        self.eval_start: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.eta = Eta(total=state.max_steps, done=state.global_step)
        resumed = f", resuming at step {state.global_step}" if state.global_step else ""
        self.log.info(
            "train: %d optimizer steps (batch %d x %d accumulation)%s",
            state.max_steps,
            args.per_device_train_batch_size,
            args.gradient_accumulation_steps,
            resumed,
        )

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if self.eta is None:
            return
        self.eta.update(state.global_step)
        if "loss" in logs:
            lr = logs.get("learning_rate")
            lr_text = f" lr {float(lr):.1e}" if lr is not None else ""
            self.log.info("train: step %s loss %.4f%s", self.eta.line(), float(logs["loss"]), lr_text)
        elif "eval_loss" in logs:
            took = f" ({duration(time.perf_counter() - self.eval_start)})" if self.eval_start else ""
            self.eval_start = None
            self.log.info(
                "train: validation loss %.4f at step %d/%d%s",
                float(logs["eval_loss"]),
                state.global_step,
                state.max_steps,
                took,
            )

    def on_prediction_step(self, args, state, control, **kwargs):
        if self.eval_start is None:
            self.eval_start = time.perf_counter()

    def on_save(self, args, state, control, **kwargs):
        self.log.info("train: checkpoint at step %d/%d in %s", state.global_step, state.max_steps, args.output_dir)

    def on_train_end(self, args, state, control, **kwargs):
        if self.eta is not None:
            self.eta.update(state.global_step)
            self.log.info(
                "train: done, %d/%d steps in %s", state.global_step, state.max_steps, duration(self.eta.elapsed)
            )
