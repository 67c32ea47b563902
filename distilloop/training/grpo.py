"""GRPO with the gate as a verifiable reward: group advantages, the loss, the prompt order, the
reward-hacking guard and the resumable run state of the rl stage (stages/rl.py).

One step: `prompts_per_step` pool prompts, `num_generations` sampled answers each (one group per prompt),
reward = gate score / 10. A group's advantages are (r - mean) / (std + 1e-4). A group whose rewards are
all equal has advantages 0 and teaches nothing: it is skipped (no forward pass), counted, and its prompt is
not drawn again in this run, so the steps go to prompts the student passes sometimes. The update is
on-policy (one optimiser step per generation batch, so the importance ratio is 1):

    loss = mean over teaching groups' answers of  -A * mean token logprob  +  beta * mean token KL

with the k3 estimator exp(ref - pol) - (ref - pol) - 1 against the frozen SFT adapter ("reference").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import torch

from distilloop.io import atomic_path

STD_EPS = 1e-4
MAX_GRAD_NORM = 1.0
STATE_FILE = "state.pt"  # in runs/rl/checkpoints: everything a killed run resumes from


# --- advantages ----------------------------------------------------------------------------------


def group_advantages(rewards: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """rewards [groups, generations] -> (advantages of the same shape, which groups teach [groups]). A group
    teaches when its rewards are not all equal; the others get advantages 0."""
    rewards = rewards.float()
    mean = rewards.mean(dim=1, keepdim=True)
    std = rewards.std(dim=1, keepdim=True, unbiased=False)
    teaches = (rewards.max(dim=1).values - rewards.min(dim=1).values) > 0
    advantages = (rewards - mean) / (std + STD_EPS)
    return torch.where(teaches[:, None], advantages, torch.zeros_like(advantages)), teaches


# --- log-probabilities and the loss --------------------------------------------------------------


def group_logprobs(model, prompt: list[int], completions: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(log-probability of each completion token [answers, longest answer], mask of real tokens) of one
    group's answers to one prompt. The prompt runs once (its keys and values shared by every answer, the
    gradient flowing back through them), then the answers run together, padded on the right: a group costs
    one prompt and G answers, not G prompts (a 240-token prompt with 24-token answers: 4x less compute at G 4)."""
    device = next(model.parameters()).device
    rows, width = len(completions), max(max(len(c) for c in completions), 1)
    start = model(input_ids=torch.tensor([prompt], device=device), use_cache=True, logits_to_keep=1)
    cache = start.past_key_values
    cache.batch_repeat_interleave(rows)
    ids = torch.zeros(rows, width, dtype=torch.long, device=device)
    mask = torch.zeros(rows, width, device=device)
    for i, completion in enumerate(completions):
        ids[i, : len(completion)] = torch.tensor(completion, dtype=torch.long, device=device)
        mask[i, : len(completion)] = 1
    attention = torch.cat([torch.ones(rows, len(prompt), dtype=torch.long, device=device), mask.long()], dim=1)
    positions = torch.arange(len(prompt), len(prompt) + width, device=device).expand(rows, -1)
    out = model(input_ids=ids, attention_mask=attention, position_ids=positions, past_key_values=cache, use_cache=True)
    # the prompt's last logits predict the first answer token; answer position t predicts token t + 1
    logits = torch.cat([start.logits.expand(rows, -1, -1), out.logits[:, :-1]], dim=1).float()
    picked = torch.log_softmax(logits, dim=-1).gather(2, ids[:, :, None])[:, :, 0]
    return picked * mask, mask


def grpo_loss(
    policy: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor, advantages: torch.Tensor, beta: float
) -> tuple[torch.Tensor, dict]:
    """The loss of one group's answers (module docstring) and its parts: (loss, {"pg", "kl"})."""
    tokens = mask.sum(dim=1).clamp(min=1)
    mean_logprob = (policy * mask).sum(dim=1) / tokens
    delta = (reference - policy) * mask
    kl = ((torch.exp(delta) - delta - 1) * mask).sum(dim=1) / tokens
    pg = -(advantages * mean_logprob)
    loss = (pg + beta * kl).mean()
    return loss, {"pg": float(pg.detach().mean()), "kl": float(kl.detach().mean())}


# --- the order of the prompts ----------------------------------------------------------------------


@dataclass
class PromptOrder:
    """A seeded permutation of the pool, walked in a cycle; prompts whose group taught nothing are left out."""

    size: int
    seed: int
    cursor: int = 0
    exhausted: set[int] = field(default_factory=set)

    def __post_init__(self):
        self.order = random.Random(self.seed).sample(range(self.size), self.size)

    def draw(self, count: int) -> list[int]:
        """Up to `count` distinct prompts not exhausted; [] when every prompt is."""
        drawn: list[int] = []
        for _ in range(self.size):
            if len(drawn) == count:
                break
            index = self.order[self.cursor % self.size]
            self.cursor += 1
            if index not in self.exhausted and index not in drawn:
                drawn.append(index)
        return drawn

    def state(self) -> dict:
        return {"cursor": self.cursor, "exhausted": sorted(self.exhausted)}


# --- the reward-hacking guard ---------------------------------------------------------------------


def independent_check(summary: dict) -> tuple[str | None, float | None]:
    """(name, value) of the figure the reward does not optimise directly: json_record's Pearson r of the
    answers' scores against the rubric's, c_code's function axis (the harness) / 10; (None, None) otherwise."""
    if "pearson_r" in summary:
        return "pearson_r", summary.get("pearson_r")
    if "function" in (summary.get("axes") or {}):
        return "function_axis", round(summary["axes"]["function"] / 10, 4)
    return None, None


def hacking(history: list[dict], tolerance: float) -> str | None:
    """One line when the mean training reward rose since the first evaluation window while the independent
    check fell by more than `tolerance` below its step-0 value (the SFT adapter's); None otherwise.
    history: the evaluations, each {"step", "train_reward", "independent", "independent_name", ...}."""
    if len(history) < 3 or history[0].get("independent") is None:
        return None
    start, first_window, last = history[0], history[1], history[-1]
    rewards = (first_window.get("train_reward"), last.get("train_reward"))
    if None in rewards or last.get("independent") is None:
        return None
    drop = start["independent"] - last["independent"]
    if rewards[1] > rewards[0] and drop > tolerance:
        return (
            f"rl: reward hacking suspected at step {last['step']}: mean training reward rose "
            f"{rewards[0]:.3f} -> {rewards[1]:.3f} while {start['independent_name']} on val fell "
            f"{start['independent']:.3f} -> {last['independent']:.3f} (more than rl.hack_tolerance {tolerance})"
        )
    return None


# --- the run's state on disk ----------------------------------------------------------------------


def trainable_state(model) -> dict[str, torch.Tensor]:
    """The trainable ("default") adapter's weights, cloned."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def load_trainable(model, weights: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in weights:
                p.copy_(weights[name])


def save_state(checkpoints: Path, state: dict) -> None:
    """Everything a resumed run needs, in one file replaced by a rename (a kill leaves the previous one)."""
    with atomic_path(checkpoints / STATE_FILE) as tmp:
        torch.save(state, tmp)


def load_state(checkpoints: Path, fingerprint: str) -> dict | None:
    """The saved state of the run with this fingerprint; None (and the stale state removed) otherwise."""
    path = checkpoints / STATE_FILE
    if not path.exists():
        return None
    try:
        state = torch.load(path, weights_only=False)
    except Exception:  # damaged: start afresh
        state = None
    if not isinstance(state, dict) or state.get("fingerprint") != fingerprint:
        path.unlink()
        return None
    return state
