"""rl: GRPO after select, from the best SFT adapter, with the gate score / 10 as the reward.

Reads models/base, models/best-adapter, data/export/pool.jsonl (the prompts practised on) and val.jsonl.
Each step samples `rl.num_generations` answers to each of `rl.prompts_per_step` pool prompts with the
batched engine (distilloop/student/generation.py, at rl.temperature), scores them with the gate
(score_records: every task, user scorers and judges alike) and takes one on-policy GRPO step
(distilloop/training/grpo.py). The SFT adapter is loaded twice: a frozen "reference" (the KL term) and the
trained "default". Every `rl.eval_every` steps, and at step 0, the greedy val answers are scored as
evaluate scores them; the best val pass rate's adapter is kept, `rl.patience` evaluations without a better
one stop the run, and the reward-hacking guard stops it with one line when the training reward rises while
the independent check falls (grpo.hacking).

Writes models/rl-adapter: the RL adapter when it beat step 0 (the SFT adapter) on the val pass rate, else
a copy of models/best-adapter, so merge_lora merges whichever is better. metrics/rl.json says which, with
the evaluations, speeds and the share of groups skipped; metrics/plots/rl.json is the per-step curve.
runs/rl/checkpoints (persist in dvc.yaml) holds the state after every step: a run killed (or sent
SIGTERM: it finishes the step, saves, exits 143) resumes from it when the inputs and params are the same.
`rl.enabled: false` loads no model: models/rl-adapter is models/best-adapter, and the metrics say so.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from distilloop import UserError
from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, summary_table
from distilloop.io import read_records, write_json
from distilloop.paths import BASE_DIR, BEST_ADAPTER, METRICS_DIR, PLOTS_DIR, RL_ADAPTER, RL_RUN_DIR, export_split
from distilloop.training.adapters import copy_adapter, digest


def pass_through(params: Params, sft_adapter: Path, out_dir: Path, run_dir: Path, metrics_path: Path) -> dict:
    if not (sft_adapter / "adapter_config.json").exists():
        raise UserError(f"{sft_adapter}: no LoRA adapter here (run select first)")
    copy_adapter(sft_adapter, out_dir)
    write_json(run_dir / "checkpoints" / "run.json", {"enabled": False})  # a DVC output: present, nothing to resume
    metrics = {
        "enabled": False,
        "adapter": "sft",
        "steps": 0,
        "note": f"rl.enabled is false: {out_dir} = {sft_adapter}",
    }
    write_json(metrics_path, metrics)
    write_json(PLOTS_DIR / "rl.json", [])
    console.print(f"rl: disabled (rl.enabled: false); {out_dir} = {sft_adapter}")
    return metrics


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

    gate = params.gate
    settings = [params.rl.model_dump(), params.student.model_dump(), gate.pass_score, gate.c_code.model_dump()]
    settings += [gate.json_record.model_dump(), {k: v.model_dump() for k, v in gate.tasks.items()}]
    return digest([settings, adapter_digest(sft_adapter), pool, val])


def run(
    params: Params,
    model_dir: Path = BASE_DIR,
    sft_adapter: Path = BEST_ADAPTER,
    out_dir: Path = RL_ADAPTER,
    run_dir: Path = RL_RUN_DIR,
    metrics_path: Path = METRICS_DIR / "rl.json",
    on_checkpoint=None,
) -> dict:
    config = params.rl
    if not config.enabled:
        return pass_through(params, sft_adapter, out_dir, run_dir, metrics_path)
    if not (sft_adapter / "adapter_config.json").exists():
        raise UserError(f"{sft_adapter}: no LoRA adapter here (run select first)")
    pool, val = read_records(export_split("pool")), read_records(export_split("val"))
    if not pool or not val:
        raise UserError(
            f"rl: needs pool and val prompts ({len(pool)} pool, {len(val)} val in {export_split('pool').parent})"
        )

    import torch

    from distilloop.training import grpo
    from distilloop.training.adapters import save_adapter
    from distilloop.training.interruption import INTERRUPTED_EXIT, Interrupted

    checkpoints = run_dir / "checkpoints"
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

    beat = state["best_step"] > 0
    if beat:
        grpo.load_trainable(model, state["best"])
        save_adapter(model, out_dir, {"method": "grpo", "step": state["best_step"], "from": str(sft_adapter)})
    else:
        copy_adapter(sft_adapter, out_dir)
    (checkpoints / grpo.STATE_FILE).unlink(missing_ok=True)
    write_json(checkpoints / "run.json", {"fingerprint": key, "completed_steps": state["step"]})  # what ran here
    metrics = summarise(state, beat, resumed_from)
    write_json(metrics_path, metrics)
    write_json(PLOTS_DIR / "rl.json", state["curve"])
    print_summary(metrics, out_dir)
    return metrics


def summarise(state: dict, beat: bool, resumed_from: int | None) -> dict:
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
        "evals": state["history"],
    }


def print_summary(metrics: dict, out_dir: Path) -> None:
    rows = [
        (e["step"], f"{e['pass_rate']:.1%}", "-" if e["independent"] is None else f"{e['independent']:.3f}",
         "-" if e["train_reward"] is None else f"{e['train_reward']:.3f}", e["mean_tokens"], f"{e['truncation_rate']:.1%}")
        for e in metrics["evals"]
    ]  # fmt: skip
    columns = ("step", "val pass", "independent", "train reward", "mean tokens", "truncated")
    console.print(summary_table("rl: GRPO on the gate's reward", columns, rows))
    console.print(
        f"rl: {metrics['steps']} steps ({metrics['stopped']}), {metrics['skipped_fraction']} of the groups skipped, "
        f"{metrics['generation']['tokens_per_second']} tokens/s; {out_dir} = the {metrics['adapter']} adapter"
    )


def main(params_file: ParamsOption = Path("params.yaml")):
    """GRPO from the best SFT adapter with the gate as the reward; models/rl-adapter is the better on val."""
    run(load_params(params_file))


if __name__ == "__main__":
    run_command(main)
