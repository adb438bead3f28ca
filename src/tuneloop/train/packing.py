"""Padding-free batches that stay exact, and a loss that only projects the tokens it learns from.

Two costs of a padded batch on CPU, where every multiply is paid for:
  1. padding: `group_by_length` batches similar lengths, but a batch still pads to its longest example;
  2. the LM head: 49k-way logits for every position, prompt included, when the loss (completion-only)
     reads a handful of them per example. On SmolLM2-135M the tied head is 28M of the 135M weights.

Padding-free (TRL's `padding_free=True`): the batch's examples are concatenated into one row, with
`position_ids` restarting at 0 for each example and `cu_seq_lens_q/k` marking the boundaries. Linear
layers, norms and rotary embeddings are per token, so they are exact on that row. Attention is the one
place examples could see each other; `varlen_sdpa` runs PyTorch SDPA (causal) separately on each
example's slice of the row, so no token attends across a boundary: the same attention as a padded batch
(up to float summation order). It is registered as the attention implementation `tuneloop_varlen`;
without boundaries (generation, a padded batch) it is plain SDPA with the mask transformers builds.

`completion_loss`: the loss over label positions only, projecting just those hidden states through the
LM head (`logits_to_keep` with the positions' indices): the same sum of log-likelihoods, normalised the
way Trainer normalises it (tokens in the optimizer step), without the prompt's logits. With
`preset.loss_weighting: example` each example's tokens are averaged first and the examples then weigh the
same: a 3-token label and a 60-token reply count once each, instead of the reply counting twenty times
(TRL's token average); `sqrt` weighs an example by the square root of its completion tokens (in between).
"""

from __future__ import annotations

from typing import Any

ATTENTION = "tuneloop_varlen"


def varlen_sdpa(
    module,
    query,
    key,
    value,
    attention_mask,
    dropout: float = 0.0,
    scaling: float | None = None,
    cu_seq_lens_q=None,
    cu_seq_lens_k=None,
    **kwargs,
) -> tuple[Any, None]:
    """SDPA per example of a padding-free row (query/key/value: [1, heads, tokens, dim])."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if cu_seq_lens_q is None or query.shape[0] != 1 or query.shape[2] == 1:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    groups = getattr(module, "num_key_value_groups", 1)
    if groups > 1:  # grouped-query attention: repeat the K/V heads (as transformers' eager/SDPA paths do)
        key = key.repeat_interleave(groups, dim=1)
        value = value.repeat_interleave(groups, dim=1)
    bounds = cu_seq_lens_q.tolist()
    parts = []
    for start, end in zip(bounds[:-1], bounds[1:]):
        if end > start:
            parts.append(
                torch.nn.functional.scaled_dot_product_attention(
                    query[:, :, start:end],
                    key[:, :, start:end],
                    value[:, :, start:end],
                    dropout_p=dropout if module.training else 0.0,
                    scale=scaling,
                    is_causal=True,
                )
            )
    out = torch.cat(parts, dim=2) if len(parts) > 1 else parts[0]
    if out.shape[2] < query.shape[2]:  # right padding after the last boundary (pad_to_multiple_of)
        out = torch.nn.functional.pad(out, (0, 0, 0, query.shape[2] - out.shape[2]))
    return out.transpose(1, 2).contiguous(), None


def register() -> str:
    """Make `tuneloop_varlen` a valid `attn_implementation` (idempotent); its masks are SDPA's."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(ATTENTION, varlen_sdpa)
    ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION, sdpa_mask)
    return ATTENTION


def example_index(inputs: dict):
    """For every position of the batch, the example it belongs to (numbered 0.. across the batch):
    the row in a padded batch; in a padding-free row, the count of `position_ids` restarts so far."""
    import torch

    labels = inputs["labels"]
    positions = inputs.get("position_ids")
    if labels.shape[0] == 1 and positions is not None:
        return (torch.cumsum((positions == 0).long(), dim=1) - 1).clamp(min=0)
    return torch.arange(labels.shape[0], device=labels.device).unsqueeze(1).expand_as(labels)


# preset.loss_weighting -> the exponent of an example's completion tokens in its weight (token: TRL's own path)
EXAMPLE_WEIGHT_EXPONENT = {"example": 0.0, "sqrt": 0.5}


def weight_exponent(weighting: str | None) -> float | None:
    """preset.loss_weighting -> completion_loss's `weight_exponent` (None: the token average)."""
    weighting = weighting or "token"
    if weighting not in ("token", *EXAMPLE_WEIGHT_EXPONENT):
        raise ValueError(f"loss_weighting must be 'token', 'sqrt' or 'example', got {weighting!r}")
    return EXAMPLE_WEIGHT_EXPONENT.get(weighting)


def completion_loss(
    model,
    inputs: dict,
    num_items_in_batch=None,
    num_processes: int = 1,
    average_tokens_across_devices: bool = False,
    weight_exponent: float | None = None,
):
    """(loss, number of label tokens): next-token cross-entropy on the positions whose label is not -100,
    the LM head applied to those positions only. Rows of a padded batch share one index set (the union).
    weight_exponent a (None: the token average): the examples' mean token losses averaged with weight
    n_e ** a for an example of n_e completion tokens: 0 each example the same, 0.5 the square root. Trainer
    scales it for gradient accumulation (the caller sets `loss_is_scaled_for_ga = False`); DDP's gradient
    average over equal batches is then the global mean."""
    import torch

    labels = inputs["labels"]
    shifted = labels[:, 1:]
    keep = (shifted != -100).any(dim=0).nonzero().flatten()
    model_inputs = {k: v for k, v in inputs.items() if k not in ("labels", "num_items_in_batch")}
    model_inputs["use_cache"] = False
    if keep.numel() == 0:  # nothing to learn in this batch: a zero that still has a graph
        outputs = model(**model_inputs, logits_to_keep=1)
        return outputs.logits.sum() * 0.0, 0
    outputs = model(**model_inputs, logits_to_keep=keep)
    logits = outputs.logits.float()
    targets = shifted[:, keep]
    n = int((targets != -100).sum())
    if weight_exponent is not None:
        token_loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="none"
        )
        owner = example_index(inputs)[:, 1:][:, keep].reshape(-1)  # the example of each target token
        mask = targets.reshape(-1) != -100
        owner, token_loss = owner[mask], token_loss[mask]
        groups = int(owner.max()) + 1 if owner.numel() else 1
        per = torch.zeros(groups, dtype=token_loss.dtype, device=token_loss.device).index_add_(0, owner, token_loss)
        count = torch.zeros(groups, dtype=token_loss.dtype, device=token_loss.device).index_add_(
            0, owner, torch.ones_like(token_loss)
        )
        learned = count > 0  # examples whose completion was cut entirely have nothing to average
        weight = count[learned] ** float(weight_exponent)
        return (weight * per[learned] / count[learned]).sum() / weight.sum(), n
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="sum"
    )
    denominator = num_items_in_batch if num_items_in_batch is not None else max(n, 1)
    loss = loss / torch.as_tensor(denominator, device=loss.device).clamp(min=1)
    if average_tokens_across_devices and num_items_in_batch is not None:
        loss = loss * num_processes  # DDP averages gradients across ranks; the count was global (as Trainer does)
    return loss, n
