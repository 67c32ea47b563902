"""rl: GRPO on the gate's reward, with the tiny random Llama of conftest.

The reward comes through the gate's one entry point (score_records) from a project task whose scorer
(tasks/toy.py) gives 10 x the share of an answer's characters that are vowels: random answers differ in it,
so groups teach. Real tensors, real generation, real scoring; nothing under test is mocked.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import torch
from conftest import write_jsonl
from safetensors.torch import load_file

from distilloop import UserError
from distilloop.config import parse
from distilloop.training import grpo
from distilloop.training import rl as rl_steps
from stages import rl as stage

TOY_SCORER = """
def score(records, options):
    return [10.0 * sum(c in "aeiou" for c in r["output"]) / max(len(r["output"]), 1) for r in records]
"""


def rl_params(**rl):
    settings = dict(
        enabled=True,
        steps=4,
        prompts_per_step=2,
        num_generations=4,
        max_completion_length=8,
        temperature=1.0,
        learning_rate=1e-2,
        eval_every=2,
        patience=0,
        hack_tolerance=10,
    )
    return parse(
        {
            "rl": {**settings, **rl},
            "student": {"max_new_tokens": 8, "batch_size": 8, "dtype": "float32", "device": "cpu"},
            "gate": {"pass_score": 1.0, "tasks": {"toy": {"scorer": "tasks/toy.py:score"}}},
            "runtime": {"threads": 1},
        }
    )


@pytest.fixture
def rl_project(tmp_path, tiny_model_dir, monkeypatch) -> Path:
    """models/base (the tiny model), models/best-adapter (a LoRA adapter with random B, so it is not the base
    model), 8 pool, 3 val and 2 test prompts of the toy task, its scorer, and select's metrics/best.json."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "base").symlink_to(tiny_model_dir)
    torch.manual_seed(0)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"),
    )
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    model.save_pretrained(tmp_path / "models" / "best-adapter")
    prompts = [{"id": f"p{i}", "task": "toy", "prompt": f"Say something about case {i}."} for i in range(8)]
    write_jsonl(tmp_path / "data/export/pool.jsonl", prompts)
    write_jsonl(tmp_path / "data/export/val.jsonl", [{**p, "id": f"v{i}"} for i, p in enumerate(prompts[:3])])
    write_jsonl(tmp_path / "data/export/test.jsonl", [{**p, "id": f"t{i}"} for i, p in enumerate(prompts[3:5])])
    (tmp_path / "metrics").mkdir()
    best_test = {"count": 2, "pass_rate": 0.5, "mean_score": 1.1, "truncation_rate": 1.0, "histogram": {}}
    (tmp_path / "metrics" / "best.json").write_text(json.dumps({"epoch": 1, "test": best_test}))
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "toy.py").write_text(textwrap.dedent(TOY_SCORER))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def adapter_weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path / "adapter_model.safetensors"))


# --- advantages and the skip rule ------------------------------------------------------------------


def test_group_advantages_normalise_each_group_and_skip_equal_ones():
    rewards = torch.tensor([[0.2, 0.4, 0.6, 0.8], [0.5, 0.5, 0.5, 0.5], [1.0, 0.0, 0.0, 0.0]])
    advantages, teaches = grpo.group_advantages(rewards)
    assert teaches.tolist() == [True, False, True]
    assert torch.equal(advantages[1], torch.zeros(4))  # all equal: no gradient
    std = torch.tensor([0.2, 0.4, 0.6, 0.8]).std(unbiased=False)
    expected = (torch.tensor([0.2, 0.4, 0.6, 0.8]) - 0.5) / (std + grpo.STD_EPS)
    torch.testing.assert_close(advantages[0], expected)
    assert advantages[0].sum().abs() < 1e-5 and advantages[2][0] > 0 > advantages[2][1]


def test_prompt_order_is_seeded_and_leaves_exhausted_prompts_out():
    first, again = grpo.PromptOrder(6, seed=3), grpo.PromptOrder(6, seed=3)
    assert first.draw(4) == again.draw(4)
    order = grpo.PromptOrder(4, seed=0)
    order.exhausted = {order.order[0], order.order[1]}
    assert sorted(order.draw(4)) == sorted(order.order[2:])
    order.exhausted = set(range(4))
    assert order.draw(2) == []


# --- a real GRPO step -----------------------------------------------------------------------------


def test_group_logprobs_with_the_prompt_run_once_equal_each_answer_run_alone(rl_project):
    params = rl_params()
    model, tokenizer = rl_steps.load_policy(params, Path("models/base"), Path("models/best-adapter"))
    model.train()  # LoRA dropout on: the shared prompt must also share its dropout mask, so compare with it off
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    prompt = rl_steps.prompt_ids(tokenizer, [{"prompt": "A prompt shared by the group."}], params)[0]
    completions = [[101, 102, 103], [104], [105, 106]]
    batched, mask = grpo.group_logprobs(model, prompt, completions)
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    batched.sum().backward()  # the gradient reaches the adapter through the shared prompt's keys and values
    shared = {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    total = 0
    for row, completion in enumerate(completions):
        logits = model(input_ids=torch.tensor([prompt + completion])).logits[0].float()
        alone = torch.log_softmax(logits, dim=-1)[len(prompt) - 1 : -1].gather(1, torch.tensor(completion)[:, None])
        torch.testing.assert_close(batched[row, : len(completion)].detach(), alone[:, 0].detach(), atol=1e-5, rtol=0)
        total = total + alone.sum()
    total.backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            torch.testing.assert_close(shared[name], p.grad, atol=1e-5, rtol=1e-4)


def test_a_grpo_step_changes_the_adapter_and_lowers_the_loss(rl_project):
    params = rl_params()
    model, tokenizer = rl_steps.load_policy(params, Path("models/base"), Path("models/best-adapter"))
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(".default." in name for name in trainable)  # the reference stays frozen
    prompt = rl_steps.prompt_ids(tokenizer, [{"prompt": "Say something."}], params)[0]
    completions = [
        tokenizer("aeiou ae", add_special_tokens=False)["input_ids"],
        tokenizer("xyz", add_special_tokens=False)["input_ids"],
    ]
    advantages = torch.tensor([1.0, -1.0])

    def loss_now():
        model.eval()
        model.set_adapter("reference")
        with torch.no_grad():
            reference, _ = grpo.group_logprobs(model, prompt, completions)
        model.set_adapter("default")
        policy, mask = grpo.group_logprobs(model, prompt, completions)
        return grpo.grpo_loss(policy, reference, mask, advantages, beta=0.04)

    before = grpo.trainable_state(model)
    loss, parts = loss_now()
    assert parts["kl"] == pytest.approx(0.0, abs=1e-6)  # default = reference before any step
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    after = grpo.trainable_state(model)
    assert any(not torch.equal(before[name], after[name]) for name in before)
    with torch.no_grad():
        new_loss, new_parts = loss_now()
    assert float(new_loss) < float(loss)
    assert new_parts["kl"] > 0  # the policy moved away from the frozen SFT adapter


def test_the_groups_are_sampled_by_the_engine_and_scored_by_the_gate(rl_project):
    params = rl_params()
    model, tokenizer = rl_steps.load_policy(params, Path("models/base"), Path("models/best-adapter"))
    records = [{"id": "a", "task": "toy", "prompt": "Say a."}, {"id": "b", "task": "toy", "prompt": "Say b."}]
    generations, rewards = rl_steps.sample_and_score(model, tokenizer, params, records, step=1)
    assert rewards.shape == (2, 4) and len(generations) == 8
    for g in generations:  # the token ids trained on are the ones sampled
        assert len(g.ids) == g.tokens <= 8 and tokenizer.decode(g.ids, skip_special_tokens=True) == g.text
    vowels = [10.0 * sum(c in "aeiou" for c in g.text) / max(len(g.text), 1) / 10 for g in generations]
    assert rewards.flatten().tolist() == pytest.approx(vowels, abs=1e-3)  # the toy score / 10 (the gate rounds it)
    assert len({g.text for g in generations[:4]}) > 1  # sampled, not greedy
    again, _ = rl_steps.sample_and_score(model, tokenizer, params, records, step=1)
    assert [g.ids for g in again] == [g.ids for g in generations]  # seeded by rl.seed and the step


# --- the stage ------------------------------------------------------------------------------------


def test_disabled_passes_the_sft_adapter_through_without_a_model(rl_project):
    Path("models/base").unlink()  # no model to load: the disabled stage must not need one
    metrics = stage.run(parse({}))
    assert metrics["enabled"] is False and metrics["adapter"] == "sft"
    assert json.loads(Path("metrics/rl.json").read_text())["enabled"] is False
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        assert Path("models/rl-adapter", name).read_bytes() == Path("models/best-adapter", name).read_bytes()
    assert json.loads(Path("runs/rl/checkpoints/run.json").read_text()) == {"enabled": False}
    assert metrics["test"] == {"count": 2, "pass_rate": 0.5, "mean_score": 1.1, "truncation_rate": 1.0}


def test_quantise_and_the_headline_take_the_shipped_adapters_test_figures(rl_project):
    from distilloop.loop.summary import headline, merged_reference

    stage.run(parse({}))  # rl disabled: the best epoch's figures
    assert merged_reference() == {"epoch": 1, "rl_step": 0, **json.loads(Path("metrics/best.json").read_text())["test"]}
    rl = json.loads(Path("metrics/rl.json").read_text())
    rl_test = {"count": 2, "pass_rate": 1.0, "mean_score": 9.0, "truncation_rate": 0.0}
    Path("metrics/rl.json").write_text(json.dumps({**rl, "adapter": "rl", "best_step": 6, "test": rl_test}))
    reference = merged_reference()
    assert reference == {"epoch": 1, "rl_step": 6, **rl_test}
    summary = headline([1], {"epoch": reference["epoch"], "test": reference}, {})
    assert summary["rl_step"] == 6 and summary["best_test"] == {"pass_rate": 1.0, "mean_score": 9.0}


def test_status_says_which_adapter_ships(rl_project):
    from distilloop.status import rl_line

    metrics = stage.run(rl_params())
    assert metrics["beat_sft"]  # seeded: on the toy task the RL adapter beats the SFT one on val
    line = rl_line(json.loads(Path("metrics/rl.json").read_text()))
    assert line == (
        f"rl: the adapter of GRPO step {metrics['best_step']} of 4 ships (val pass rate "
        f"{metrics['sft_val_pass_rate']:.1%} -> {metrics['best_val_pass_rate']:.1%}, "
        f"test 50.0% -> {metrics['test']['pass_rate']:.1%})"
    )
    kept = {**metrics, "adapter": "sft", "beat_sft": False}  # as a run that found nothing better reads
    assert rl_line(kept) == (
        f"rl: 4 GRPO steps (rl.steps=4 reached), no val pass rate above {metrics['sft_val_pass_rate']:.1%}: "
        "the SFT adapter ships"
    )
    stage.run(parse({}))
    assert rl_line(json.loads(Path("metrics/rl.json").read_text())) is None  # disabled: nothing to say


def test_a_run_trains_evaluates_and_reports(rl_project):
    metrics = stage.run(rl_params())
    assert metrics["steps"] == 4 and metrics["stopped"] == "rl.steps=4 reached"
    assert [e["step"] for e in metrics["evals"]] == [0, 2, 4]
    assert metrics["groups"] == 8 and 0 <= metrics["skipped_fraction"] <= 1
    assert metrics["generation"]["tokens"] > 0 and metrics["generation"]["tokens_per_second"] > 0
    for evaluation in metrics["evals"]:
        assert 0 <= evaluation["pass_rate"] <= 1 and evaluation["mean_tokens"] > 0
        assert evaluation["independent"] is None  # a project task has no independent check
    assert metrics["evals"][1]["train_reward"] is not None
    curve = json.loads(Path("metrics/plots/rl.json").read_text())
    assert [row["step"] for row in curve] == [1, 2, 3, 4]
    assert metrics["beat_sft"] == (metrics["best_step"] > 0)
    rl_adapter, sft = adapter_weights(Path("models/rl-adapter")), adapter_weights(Path("models/best-adapter"))
    same = all(torch.equal(rl_adapter[name], sft[name]) for name in sft)
    assert same != metrics["beat_sft"]  # the RL adapter when it beat SFT on val, else the SFT adapter
    assert not Path("runs/rl/checkpoints", grpo.STATE_FILE).exists()
    # the shipped adapter's test figures (quantise's reference): the RL adapter's own answers, or best.json's
    sft_test = {"count": 2, "pass_rate": 0.5, "mean_score": 1.1, "truncation_rate": 1.0}
    assert metrics["sft_test"] == sft_test
    if metrics["beat_sft"]:
        assert metrics["test"]["count"] == 2 and 0 <= metrics["test"]["pass_rate"] <= 1
    else:
        assert metrics["test"] == sft_test


class Killed(Exception):
    pass


def kill_after(step: int):
    def hook(done: int) -> None:
        if done == step:
            raise Killed(f"killed after step {step}")

    return hook


def test_a_killed_then_resumed_run_ends_with_the_adapter_of_an_uninterrupted_one(rl_project):
    params = rl_params(steps=4, eval_every=1, patience=0)
    straight = stage.run(params, out_dir=Path("straight"), run_dir=Path("runs/straight"), metrics_path=Path("s.json"))
    best_step = straight["best_step"]
    # the adapter at the end of the run (saved in every checkpoint), whatever the best step was
    with pytest.raises(Killed):
        stage.run(params, run_dir=Path("runs/full"), metrics_path=Path("f.json"), on_checkpoint=kill_after(4))
    full_end = torch.load(Path("runs/full/checkpoints", grpo.STATE_FILE), weights_only=False)["adapter"]

    with pytest.raises(Killed):
        stage.run(params, out_dir=Path("resumed"), metrics_path=Path("r.json"), on_checkpoint=kill_after(2))
    assert torch.load(Path("runs/rl/checkpoints", grpo.STATE_FILE), weights_only=False)["step"] == 2
    with pytest.raises(Killed):
        stage.run(params, out_dir=Path("resumed"), metrics_path=Path("r.json"), on_checkpoint=kill_after(4))
    resumed_end = torch.load(Path("runs/rl/checkpoints", grpo.STATE_FILE), weights_only=False)["adapter"]
    resumed = stage.run(params, out_dir=Path("resumed"), metrics_path=Path("r.json"))

    # same prompts, samples, dropout masks and optimiser state: bit-identical weights on the CPU
    assert resumed["resumed_from_step"] == 4 and resumed["best_step"] == best_step
    for name in full_end:
        assert torch.equal(resumed_end[name], full_end[name]), name
    straight_weights, resumed_weights = adapter_weights(Path("straight")), adapter_weights(Path("resumed"))
    for name in straight_weights:
        assert torch.equal(resumed_weights[name], straight_weights[name]), name
    assert [e["pass_rate"] for e in resumed["evals"]] == [e["pass_rate"] for e in straight["evals"]]


def test_stale_checkpoints_are_not_resumed(rl_project):
    with pytest.raises(Killed):
        stage.run(rl_params(), on_checkpoint=kill_after(1))
    metrics = stage.run(rl_params(steps=2, learning_rate=5e-3, beta=0))  # other params: another run
    assert metrics["resumed_from_step"] is None and metrics["steps"] == 2
    curve = json.loads(Path("metrics/plots/rl.json").read_text())
    assert all(row["kl"] == 0 for row in curve if row["loss"] is not None)  # beta 0: no reference pass, no KL


# --- the reward-hacking guard ---------------------------------------------------------------------


def test_the_hacking_guard_stops_when_reward_rises_and_the_independent_check_falls():
    def evaluation(step, reward, pearson):
        return {"step": step, "train_reward": reward, "independent": pearson, "independent_name": "pearson_r"}

    honest = [evaluation(0, None, 0.60), evaluation(10, 0.40, 0.62), evaluation(20, 0.55, 0.58)]
    assert grpo.hacking(honest, tolerance=0.1) is None  # reward up, r within the tolerance
    hacked = [*honest, evaluation(30, 0.70, 0.41)]
    message = grpo.hacking(hacked, tolerance=0.1)
    assert message == (
        "rl: reward hacking suspected at step 30: mean training reward rose 0.400 -> 0.700 while pearson_r on val "
        "fell 0.600 -> 0.410 (more than rl.hack_tolerance 0.1)"
    )
    falling_reward = [*honest, evaluation(30, 0.35, 0.41)]  # both fall: a bad run, not a hack
    assert grpo.hacking(falling_reward, tolerance=0.1) is None


def test_the_independent_check_of_each_task():
    json_summary = {"pass_rate": 0.5, "pearson_r": 0.71, "axes": {"parse": 9.0}}
    assert grpo.independent_check(json_summary) == ("pearson_r", 0.71)
    assert grpo.independent_check({"axes": {"function": 7.5, "syntax": 10.0}}) == ("function_axis", 0.75)
    assert grpo.independent_check({"axes": {"custom": 3.0}}) == (None, None)


OPPOSED_SCORER = """
def score(records, options):
    results = []
    for r in records:
        share = sum(c in "aeiou" for c in r["output"]) / max(len(r["output"]), 1)
        results.append({"score": 10.0 * share, "axes": {"function": 10.0 * (1 - share)}})
    return results
"""


def test_a_real_run_whose_reward_opposes_the_independent_check_is_stopped(rl_project):
    """A task whose function axis (the independent check) falls exactly as the score rises: training on the
    score raises the reward and lowers the check on val, and the guard ends the run with one line. The
    figures are this seeded CPU run's (reward 0.331 -> 0.339, function axis 1.000 -> 0.667 at step 8)."""
    Path("tasks/toy.py").write_text(textwrap.dedent(OPPOSED_SCORER))
    params = rl_params(steps=8, learning_rate=1e-2, hack_tolerance=0.2)
    with pytest.raises(UserError) as stopped:
        stage.run(params)
    message = str(stopped.value)
    assert message.startswith("rl: reward hacking suspected at step 8: mean training reward rose ")
    assert "while function_axis on val fell 1.000 -> " in message and "(more than rl.hack_tolerance 0.2)" in message
    assert "\n" not in message and not Path("models/rl-adapter").exists()


def test_the_stage_stops_with_one_line_on_a_hacked_history(rl_project):
    """A resumed run whose saved evaluations show the hack stops before another step."""
    params = rl_params(steps=6, hack_tolerance=0.05)
    with pytest.raises(Killed):
        stage.run(params, on_checkpoint=kill_after(1))
    path = Path("runs/rl/checkpoints", grpo.STATE_FILE)
    state = torch.load(path, weights_only=False)
    state["history"] = [
        {"step": 0, "train_reward": None, "independent": 0.8, "independent_name": "pearson_r"},
        {"step": 2, "train_reward": 0.3, "independent": 0.78, "independent_name": "pearson_r"},
        {"step": 4, "train_reward": 0.6, "independent": 0.5, "independent_name": "pearson_r"},
    ]
    torch.save(state, path)
    with pytest.raises(
        UserError, match=r"^rl: reward hacking suspected at step 4: .* 0\.300 -> 0\.600 .* 0\.800 -> 0\.500"
    ):
        stage.run(params)


# --- errors ---------------------------------------------------------------------------------------


def test_bad_params_and_inputs_give_one_line_errors(rl_project):
    with pytest.raises(
        UserError, match=r"^params.yaml: rl.num_generations: Input should be greater than or equal to 2 \(got 1\)$"
    ):
        parse({"rl": {"num_generations": 1}})
    with pytest.raises(UserError, match=r"^params.yaml: rl.temperature: Input should be greater than 0 \(got 0\)$"):
        parse({"rl": {"temperature": 0}})
    with pytest.raises(UserError, match=r"^params.yaml: rl.stepz: unknown key$"):
        parse({"rl": {"stepz": 3}})
    write_jsonl(Path("data/export/val.jsonl"), [])
    with pytest.raises(UserError, match=r"^rl: needs pool and val prompts \(8 pool, 0 val in data/export\)$"):
        stage.run(rl_params())
    with pytest.raises(UserError, match=r"^nowhere: no LoRA adapter here \(run select first\)$"):
        stage.run(rl_params(), sft_adapter=Path("nowhere"))


@pytest.mark.slow  # two subprocesses that each load torch
def test_sigterm_finishes_the_step_saves_and_a_rerun_resumes_to_the_same_adapter(rl_project):
    """`python -m stages.rl` sent SIGTERM (a spot machine taken away): it finishes the step under way, saves,
    exits 143; run again it resumes and ends with the adapter of a run never interrupted."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import cli_env

    params = rl_params(steps=6, eval_every=3)
    Path("params.yaml").write_text(params.model_dump_json())  # JSON is YAML
    command = [sys.executable, "-m", "stages.rl"]
    env = cli_env()  # PYTHONPATH: this checkout, where stages/ lives
    state = Path("runs/rl/checkpoints", grpo.STATE_FILE)
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not state.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGTERM)
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 143, stderr
    stopped_at = torch.load(state, weights_only=False)["step"]
    assert 1 <= stopped_at < 6 and not Path("models/rl-adapter").exists()

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    resumed = json.loads(Path("metrics/rl.json").read_text())
    assert resumed["resumed_from_step"] == stopped_at and resumed["steps"] == 6

    straight = stage.run(params, out_dir=Path("straight"), run_dir=Path("runs/straight"), metrics_path=Path("s.json"))
    assert straight["best_step"] == resumed["best_step"]
    assert [e["pass_rate"] for e in straight["evals"]] == [e["pass_rate"] for e in resumed["evals"]]
    ours, theirs = adapter_weights(Path("models/rl-adapter")), adapter_weights(Path("straight"))
    for name in theirs:
        assert torch.equal(ours[name], theirs[name]), name
