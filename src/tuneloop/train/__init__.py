"""Train: the base model (`base` stage: hub, local folder or the offline GGUF wheel -> models/base) and the
adapter (`train` stage, module sft: TRL SFTTrainer + PEFT on the train/val splits -> models/adapter).

May import: tuneloop.io, tuneloop.params, tuneloop.hardware; never data, evals, gate or ci.
"""
