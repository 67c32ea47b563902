"""The rl stage's work (stages/rl.py reads the inputs and writes the outputs): GRPO steps on the batched
engine's samples with the gate's score / 10 as the reward, val evaluations with the reward-hacking guard,
and a state after every step that a killed run resumes from. The GRPO arithmetic is grpo.py.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from distilloop import UserError
from distilloop.config import Params
from distilloop.console import console
from distilloop.training import grpo
from distilloop.training.adapters import digest


def load_policy(params: Params, model_dir: Path, sft_adapter: Path):
    """(peft model with the SFT adapter as frozen "reference" and trainable "default", tokenizer), float32."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from distilloop.console import quiet_libraries
    from distilloop.hardware import prepare_cpu, resolve_device

    device = resolve_device(params.student.device, "student.device")
    if device.type == "cpu":
        prepare_cpu(params.runtime.threads)
    quiet_libraries()
    if not (Path(model_dir) / "config.json").exists():
        raise UserError(f"{model_dir}: no model here (run `distilloop base` first)")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device)
    model = PeftModel.from_pretrained(base, sft_adapter, adapter_name="reference")
    model.load_adapter(sft_adapter, adapter_name="default", is_trainable=True)
    model.set_adapter("default")
    return model, tokenizer


def prompt_ids(tokenizer, records: list[dict], params: Params) -> list[list[int]]:
    """The prompts as the engine feeds them (chat template, no second BOS), for the log-probabilities."""
    from distilloop.student.generation import render_prompts

    templated = bool(getattr(tokenizer, "chat_template", None))
    texts = render_prompts(tokenizer, [r["prompt"] for r in records], params.student)
    return [tokenizer(text, add_special_tokens=not templated)["input_ids"] for text in texts]


def sample_and_score(model, tokenizer, params: Params, records: list[dict], step: int):
    """num_generations sampled answers per record, scored by the gate: (generations, rewards [groups, G])."""
    import torch

    from distilloop.gate.scoring import score_records
    from distilloop.student.generation import generate

    config = params.rl
    limit = config.max_completion_length
    sampling = params.student.model_copy(
        update={
            "temperature": config.temperature,
            "seed": config.seed * 1_000_003 + step,
            "max_new_tokens": limit,
            "max_new_tokens_by_task": {k: min(v, limit) for k, v in params.student.max_new_tokens_by_task.items()},
        }
    )
    repeated = [record for record in records for _ in range(config.num_generations)]
    model.eval()
    generations = generate(
        model.get_base_model(), tokenizer, [r["prompt"] for r in repeated], sampling, f"rl step {step}",
        tasks=[r.get("task") for r in repeated],
    )  # fmt: skip
    answered = [
        {**r, "output": g.text, "truncated": g.truncated, "gen": {"tokens": g.tokens, "seconds": g.seconds}}
        for r, g in zip(repeated, generations)
    ]
    scores = [float(s["score"]) / 10 for s in score_records(answered, params.gate)]
    return generations, torch.tensor(scores).view(len(records), config.num_generations)


def update(model, optimizer, params: Params, prompts: list[list[int]], generations, rewards) -> dict:
    """One GRPO step on the groups that teach; returns the step's figures."""
    import torch

    from distilloop.training.grpo import MAX_GRAD_NORM, group_advantages, group_logprobs, grpo_loss

    advantages, teaches = group_advantages(rewards)
    groups = [g for g in range(len(prompts)) if teaches[g]]
    size = rewards.shape[1]
    optimizer.zero_grad()
    loss_sum = kl_sum = 0.0
    for g in groups:
        completions = [generations[g * size + j].ids for j in range(size)]
        reference = None
        if params.rl.beta > 0:  # beta 0: no KL term, no reference pass
            model.eval()  # the reference without dropout
            model.set_adapter("reference")
            with torch.no_grad():
                reference, _ = group_logprobs(model, prompts[g], completions)
            model.set_adapter("default")
        model.train()
        policy, mask = group_logprobs(model, prompts[g], completions)
        reference = policy.detach() if reference is None else reference
        loss, parts = grpo_loss(policy, reference, mask, advantages[g], params.rl.beta)
        (loss / len(groups)).backward()
        loss_sum, kl_sum = loss_sum + float(loss.detach()), kl_sum + parts["kl"]
    if groups:
        trainable = [p for p in model.parameters() if p.requires_grad]
        torch.nn.utils.clip_grad_norm_(trainable, MAX_GRAD_NORM)
        optimizer.step()
    return {
        "reward": round(float(rewards.mean()), 4),
        "groups": len(prompts),
        "skipped": len(prompts) - len(groups),
        "loss": round(loss_sum / len(groups), 6) if groups else None,
        "kl": round(kl_sum / len(groups), 6) if groups else None,
        "teaches": [bool(t) for t in teaches],
    }


def evaluate_val(model, tokenizer, params: Params, val: list[dict], step: int, train_reward) -> dict:
    """Greedy val answers scored as evaluate scores them (answer_and_score), with the hacking guard's figures."""
    from distilloop.loop.epochs import answer_and_score
    from distilloop.training.grpo import independent_check

    model.eval()
    scored, summary = answer_and_score(val, model.get_base_model(), tokenizer, params, f"rl step {step} val")
    name, value = independent_check(summary)
    return {
        "step": step,
        "pass_rate": summary["pass_rate"],
        "mean_score": summary["mean_score"],
        "independent_name": name,
        "independent": value,
        "mean_tokens": round(sum(r["gen"]["tokens"] for r in scored) / len(scored), 2),
        "truncation_rate": summary["truncation_rate"],
        "train_reward": train_reward,
    }


def fingerprint(params: Params, sft_adapter: Path, pool: list[dict], val: list[dict]) -> str:
    from distilloop.loop.epochs import adapter_digest

    # gate.workers changes no score
    settings = [params.rl.model_dump(), params.student.model_dump(), params.gate.model_dump(exclude={"workers"})]
    return digest([settings, adapter_digest(sft_adapter), pool, val])


def practise(
    params: Params,
    model_dir: Path,
    sft_adapter: Path,
    pool: list[dict],
    val: list[dict],
    checkpoints: Path,
    on_checkpoint=None,
):
    """GRPO steps until rl.steps, patience, or no pool prompt left that teaches; resumes from
    `checkpoints`. Returns (state, resumed_from_step, model, tokenizer): the state's `best` holds the best
    adapter's weights when a step beat the SFT adapter (step 0) on val."""
    import torch

    from distilloop.training.interruption import INTERRUPTED_EXIT, Interrupted

    config = params.rl
    checkpoints.mkdir(parents=True, exist_ok=True)
    key = fingerprint(params, sft_adapter, pool, val)
    torch.manual_seed(config.seed)  # LoRA dropout
    model, tokenizer = load_policy(params, model_dir, sft_adapter)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    order = grpo.PromptOrder(len(pool), config.seed)
    state = grpo.load_state(checkpoints, key)
    resumed_from = state["step"] if state else None
    if state:
        grpo.load_trainable(model, state["adapter"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        if state.get("cuda_rng") and torch.cuda.is_available():  # LoRA dropout on a GPU draws from its own
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        order.cursor, order.exhausted = state["order"]["cursor"], set(state["order"]["exhausted"])
    else:
        first = evaluate_val(model, tokenizer, params, val, 0, None)
        state = {"step": 0, "history": [first], "curve": [], "tokens": 0, "gen_seconds": 0.0, "seconds": 0.0}
        state.update(best_step=0, best_pass_rate=first["pass_rate"], best=None, stale=0, stopped=None)
    ids: dict[int, list[int]] = {}
    signalled: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: signalled.append(signum))
    try:
        while state["stopped"] is None:
            if (message := grpo.hacking(state["history"], config.hack_tolerance)) is not None:
                raise UserError(message)
            if state["step"] >= config.steps:
                state["stopped"] = f"rl.steps={config.steps} reached"
                break
            drawn = order.draw(config.prompts_per_step)
            if not drawn:
                state["stopped"] = "every pool prompt gave equal rewards to all its answers"
                break
            started, step = time.perf_counter(), state["step"] + 1
            for index in drawn:
                ids.setdefault(index, prompt_ids(tokenizer, [pool[index]], params)[0])
            generations, rewards = sample_and_score(model, tokenizer, params, [pool[i] for i in drawn], step)
            row = update(model, optimizer, params, [ids[i] for i in drawn], generations, rewards)
            order.exhausted |= {i for i, teaches in zip(drawn, row.pop("teaches")) if not teaches}
            state["tokens"] += sum(g.tokens for g in generations)
            state["gen_seconds"] += sum(g.seconds for g in generations)
            state["curve"].append({"step": step, **row})
            state["step"] = step
            if step % config.eval_every == 0 or step == config.steps:
                window = [r["reward"] for r in state["curve"] if r["step"] > state["history"][-1]["step"]]
                result = evaluate_val(model, tokenizer, params, val, step, round(sum(window) / len(window), 4))
                state["history"].append(result)
                if result["pass_rate"] > state["best_pass_rate"]:
                    state.update(best_step=step, best_pass_rate=result["pass_rate"], stale=0)
                    state["best"] = grpo.trainable_state(model)
                else:
                    state["stale"] += 1
                    if config.patience and state["stale"] >= config.patience:
                        state["stopped"] = f"no better val pass rate in rl.patience={config.patience} evaluations"
            state["seconds"] += time.perf_counter() - started
            grpo.save_state(
                checkpoints,
                {**state, "fingerprint": key, "adapter": grpo.trainable_state(model),
                 "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state(), "order": order.state(),
                 "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
            )  # fmt: skip
            if on_checkpoint is not None:
                on_checkpoint(step)
            if signalled:
                console.print(f"rl: SIGTERM: step {step} saved in {checkpoints}; a restarted run resumes from it")
                raise Interrupted(INTERRUPTED_EXIT)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if (message := grpo.hacking(state["history"], config.hack_tolerance)) is not None:
        raise UserError(message)  # the last evaluation, when patience ended the run there

    state["fingerprint"] = key
    return state, resumed_from, model, tokenizer


TEST_KEYS = ("count", "pass_rate", "mean_score", "truncation_rate", "axes", "judged", "pearson_r", "spearman_r", "mae")


def test_figures(summary: dict) -> dict:
    """The test figures quantise compares each GGUF with and the headline reports (best.json's shape)."""
    return {key: summary[key] for key in TEST_KEYS if key in summary}


def evaluate_test(model, tokenizer, params: Params, test: list[dict]) -> dict:
    """The RL adapter's greedy test answers scored as evaluate scores an epoch's: reported, never chosen on."""
    from distilloop.loop.epochs import answer_and_score

    model.eval()
    _, summary = answer_and_score(test, model.get_base_model(), tokenizer, params, "rl test")
    return test_figures(summary)


def summarise(state: dict, beat: bool, resumed_from: int | None, test: dict, sft_test: dict) -> dict:
    groups = sum(r["groups"] for r in state["curve"])
    skipped = sum(r["skipped"] for r in state["curve"])
    steps = state["step"]
    return {
        "enabled": True,
        "adapter": "rl" if beat else "sft",
        "beat_sft": beat,
        "steps": steps,
        "stopped": state["stopped"],
        "resumed_from_step": resumed_from,
        "minutes": round(state["seconds"] / 60, 2),
        "seconds_per_step": round(state["seconds"] / steps, 2) if steps else None,
        "generation": {
            "tokens": state["tokens"],
            "seconds": round(state["gen_seconds"], 2),
            "tokens_per_second": round(state["tokens"] / state["gen_seconds"], 1) if state["gen_seconds"] else 0.0,
        },
        "groups": groups,
        "groups_skipped": skipped,
        "skipped_fraction": round(skipped / groups, 4) if groups else None,
        "best_step": state["best_step"],
        "best_val_pass_rate": state["best_pass_rate"],
        "sft_val_pass_rate": state["history"][0]["pass_rate"],
        "test": test,  # the shipped adapter's: the RL adapter's own answers when it beat SFT on val
        "sft_test": sft_test,  # the best epoch's, from metrics/best.json
        "evals": state["history"],
    }
