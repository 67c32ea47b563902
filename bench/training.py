"""Training throughput: distilloop's LoRA SFT trainer against a plain fp32 transformers Trainer.

Both train the default student (SmolLM2-135M-Instruct) with the same fresh LoRA adapter (params.train.lora),
on the same examples, at the same batch size, for the same number of optimiser steps, in this process.
The figure is training tokens/s: non-padding tokens through forward, backward and optimiser step, timed
after a few warm-up steps. Goal: distilloop at least 1.8x the baseline.

distilloop's side is distilloop.training.trainers.make_trainer with the default params (bf16 autocast where the CPU has
it, length-grouped batches, the LM head at completion positions only, the batch's common opening run once);
the baseline is what a plain script does: fp32, random batches padded to the longest, transformers'
Trainer and the model's own loss. distilloop runs a second time with every row run whole, so the
shared opening's own gain is a ratio of the same run too (it is large for templated prompts such as the
profile task's, small for the C task's).

Model FLOPs utilisation (MFU) puts each side's rate against this CPU's own matmul peak, measured in the
same run at the student's shapes: model FLOPs per trained token = 4 x the student's parameters (forward
2N, backward through the frozen weights 2N; the LoRA weights' own gradients and attention scores are
left out, so MFU is slightly understated), over the best bf16 (distilloop, when it autocasts) or fp32
(the baseline) matmul rate. distilloop's MFU is that of its every-row-whole run: running the opening once
skips FLOPs, which a per-token count would credit as utilisation.

    python -m bench.training [--steps 24] [--warmup 3] [--examples 64]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

from bench.common import base_model_dir
from distilloop.config import TrainParams
from distilloop.console import console, quiet_libraries, summary_table
from distilloop.hardware import bf16_supported, prepare_cpu
from distilloop.io import write_json
from distilloop.paths import METRICS_DIR, export_split
from distilloop.training.examples import as_text

GOAL = 1.8
FIGURES = ("tokens_per_second", "tokens_per_cpu_second", "seconds_per_step", "tokens_per_step", "mfu")
OUT = METRICS_DIR / "bench" / "training.json"


# --- inputs: the base model, a fresh adapter, examples ---------------------------------------------


def fresh_adapter(base_dir: Path, out: Path, lora) -> Path:
    from transformers import AutoModelForCausalLM

    from distilloop.student.model import new_adapter

    torch.manual_seed(0)
    new_adapter(AutoModelForCausalLM.from_pretrained(base_dir), lora).save_pretrained(out)
    return out


def synthetic_records(count: int) -> list[dict]:
    """C tasks shaped like the seed data: a prompt quoting a signature (80 to 160 tokens), an answer of
    8 to 25 lines (90 to 560 tokens)."""
    rng = random.Random(0)
    records = []
    for index in range(count):
        name = f"tsn_field_{index}"
        lines = [
            f"    uint32_t v{line} = (value >> {line % 32}U) & 0x{rng.randrange(1, 0xFFFF):X}U;"
            for line in range(rng.randint(1, 18))
        ]
        prompt = (
            f"Write a MISRA-C:2012 compliant C99 function `uint32_t {name}(uint32_t value)` that extracts "
            f"field {index} of an IEEE 802.1Q / AVTP header word. Document the parameters, use fixed-width "
            f"types, no dynamic memory, a single exit point. "
            + "Explain nothing, answer with code. "
            * rng.randint(0, 12)
        )
        answer = (
            f"/**\n * @brief Extract field {index}.\n * @param value header word\n * @return the field\n */\n"
            f"uint32_t {name}(uint32_t value)\n{{\n" + "\n".join(lines) + f"\n    return v0 ^ v{len(lines) - 1};\n}}\n"
        )
        records.append({"prompt": prompt, "completion": answer})
    return records


def load_records(count: int) -> tuple[list[dict], str]:
    path = export_split("train")
    if path.exists():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [  # a profile's reference is a JSON object: the student is trained to write its JSON
            {"prompt": row["prompt"], "completion": as_text(row["reference"])}
            for row in rows
            if row.get("reference") not in (None, "")
        ]
        if rows:
            return (rows * (count // len(rows) + 1))[:count], str(path)
    return synthetic_records(count), "synthetic C tasks"


# --- timing ---------------------------------------------------------------------------------------


def matmul_peaks() -> dict:
    """FLOP/s of this CPU's best fp32 and bf16 matmul at the student's shapes (the MFU denominators)."""
    from distilloop.training.sft import MATMUL_SHAPE, matmul_seconds

    rows, inner, columns = MATMUL_SHAPE
    flops = 2 * rows * inner * columns
    peaks = {"float32": flops / matmul_seconds(torch.float32, repeats=12)}
    if bf16_supported():
        peaks["bfloat16"] = flops / matmul_seconds(torch.bfloat16, repeats=12)
    return peaks


def parameter_count(base_dir: Path) -> int:
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):  # the architecture without its weights
        return AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base_dir)).num_parameters()


def mfu(tokens_per_second: float, parameters: int, peak_flops: float) -> float:
    return round(tokens_per_second * 4 * parameters / peak_flops, 4)


class StepTimer(TrainerCallback):
    """(wall time, process CPU time, non-padding tokens seen) after every optimiser step. On a shared
    machine wall time swings with the neighbours' load; CPU time of this process much less, so both are
    reported (tokens per CPU-second counts all threads: with 2 threads it is about half the wall rate)."""

    def __init__(self):
        self.marks: list[tuple[float, float, int]] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.marks.append((time.perf_counter(), time.process_time(), int(state.num_input_tokens_seen)))

    def figures(self, warmup: int) -> dict:
        (wall_start, cpu_start, tokens_start), (wall_end, cpu_end, tokens_end) = self.marks[warmup - 1], self.marks[-1]
        steps, tokens = len(self.marks) - warmup, tokens_end - tokens_start
        return {
            "tokens_per_second": round(tokens / (wall_end - wall_start), 1),
            "tokens_per_cpu_second": round(tokens / (cpu_end - cpu_start), 1),
            "seconds_per_step": round((wall_end - wall_start) / steps, 3),
            "timed_steps": steps,
            "tokens_per_step": round(tokens / steps, 1),
        }


def run_distilloop(
    config: TrainParams, base_dir: Path, adapter: Path, records, steps: int, scratch: Path, share_opening: bool = True
) -> tuple[dict, StepTimer]:
    from distilloop.training import sft
    from distilloop.training.examples import conversation
    from distilloop.training.sft import bf16_matmul_speedup, load_model, use_bf16
    from distilloop.training.trainers import make_trainer

    examples = [
        {"prompt": conversation(r["prompt"]), "completion": [{"role": "assistant", "content": r["completion"]}]}
        for r in records
    ]
    bf16 = use_bf16(config.dtype)
    model, tokenizer = load_model(base_dir, adapter, bf16)
    timer = StepTimer()
    trainer = make_trainer(config, model, tokenizer, examples, [], scratch / "ours", bf16, [timer])
    trainer.args.max_steps, trainer.args.save_strategy = steps, "no"
    least = sft.MIN_SHARED_OPENING
    sft.MIN_SHARED_OPENING = least if share_opening else 10**9
    try:
        trainer.train()
    finally:
        sft.MIN_SHARED_OPENING = least
    setup = {
        "bf16_autocast": bf16,
        "bf16_matmul_speedup": round(bf16_matmul_speedup(), 2),
        "batch_size": config.batch_size,
        "group_by_length": config.group_by_length,
    }
    return setup, timer


def run_baseline(
    base_dir: Path, adapter: Path, records, steps: int, scratch: Path, batch_size: int, max_len: int
) -> StepTimer:
    from datasets import Dataset
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback

    tokenizer = AutoTokenizer.from_pretrained(base_dir)

    def tokenize(record):  # chat template, loss on the answer only: the same task as distilloop's
        prompt = [{"role": "user", "content": record["prompt"]}]
        prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=True)[
            "input_ids"
        ]
        ids = tokenizer.apply_chat_template(
            prompt + [{"role": "assistant", "content": record["completion"]}], tokenize=True, return_dict=True
        )["input_ids"][:max_len]
        labels = ([-100] * len(prompt_ids) + ids[len(prompt_ids) :])[: len(ids)]
        return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}

    dataset = Dataset.from_list(records).map(tokenize, remove_columns=["prompt", "completion"])
    model = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32), adapter, is_trainable=True
    )
    arguments = TrainingArguments(
        output_dir=str(scratch / "baseline"),
        per_device_train_batch_size=batch_size,
        max_steps=steps,
        learning_rate=2e-4,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        include_num_input_tokens_seen="non_padding",
        disable_tqdm=True,
        seed=0,
    )
    timer = StepTimer()
    trainer = Trainer(
        model=model,
        args=arguments,
        train_dataset=dataset,
        callbacks=[timer],
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
    )
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    return timer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24, help="optimiser steps per trainer")
    parser.add_argument("--warmup", type=int, default=3, help="first steps left out of the timing")
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument(
        "--dtype",
        choices=["auto", "float32", "bfloat16"],
        default=None,
        help="override train.dtype for distilloop's side (default: params default)",
    )
    parser.add_argument(
        "--lora-dropout",
        type=float,
        default=None,
        help="override train.lora.dropout, for both sides (they share the adapter)",
    )
    args = parser.parse_args()

    quiet_libraries()
    threads = prepare_cpu(0)
    config = TrainParams(**({"dtype": args.dtype} if args.dtype else {}))
    if args.lora_dropout is not None:
        config.lora.dropout = args.lora_dropout
    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        scratch = Path(tmp)
        base_dir = base_model_dir(scratch)
        adapter = fresh_adapter(base_dir, scratch / "adapter-0", config.lora)
        parameters = parameter_count(base_dir)
        records, source = load_records(args.examples)
        console.print(f"bench.training: {len(records)} examples ({source}), {args.steps} steps each, {threads} threads")
        baseline = run_baseline(
            base_dir, adapter, records, args.steps, scratch, config.batch_size, config.max_seq_len
        ).figures(args.warmup)
        setup, timer = run_distilloop(config, base_dir, adapter, records, args.steps, scratch)
        ours = {**timer.figures(args.warmup), **setup}
        whole = run_distilloop(config, base_dir, adapter, records, args.steps, scratch, share_opening=False)[1]
        rows_whole = whole.figures(args.warmup)

    peaks = matmul_peaks()
    peak = peaks["bfloat16" if ours["bf16_autocast"] else "float32"]
    rows_whole["mfu"] = mfu(rows_whole["tokens_per_second"], parameters, peak)
    # FLOPs actually run: with the opening run once a trained token costs less than 4N, so the shared run's
    # own rate would overstate utilisation; the same trainer with every row whole has the real count
    ours["mfu"], ours["mfu_of"] = rows_whole["mfu"], "every row run whole"
    baseline["mfu"] = mfu(baseline["tokens_per_second"], parameters, peaks["float32"])
    ratio = round(ours["tokens_per_second"] / baseline["tokens_per_second"], 2)
    cpu_ratio = round(ours["tokens_per_cpu_second"] / baseline["tokens_per_cpu_second"], 2)
    result = {
        "model": "SmolLM2-135M-Instruct",
        "data": source,
        "examples": len(records),
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "threads": threads,
        "lora_dropout": config.lora.dropout,
        "cpu_bf16": bf16_supported(),
        "parameters": parameters,
        "matmul_peak_gflops": {dtype: round(flops / 1e9, 1) for dtype, flops in peaks.items()},
        "distilloop": ours,
        "baseline_fp32_trainer": baseline,
        "distilloop_rows_whole": rows_whole,
        "shared_opening_ratio": round(ours["tokens_per_second"] / rows_whole["tokens_per_second"], 2),
        "ratio": ratio,
        "cpu_time_ratio": cpu_ratio,
        "goal": GOAL,
        "meets_goal": ratio >= GOAL,
    }
    write_json(OUT, result)
    columns = ("", "tokens/s", "tokens/CPU-s", "s/step", "tokens/step", "MFU")
    console.print(
        summary_table(
            f"training tokens/s -> {OUT}",
            columns,
            [
                ("distilloop", *(ours[key] for key in FIGURES)),
                ("distilloop, every row run whole", *(rows_whole[key] for key in FIGURES)),
                ("plain fp32 Trainer", *(baseline[key] for key in FIGURES)),
                ("ratio (goal >= 1.8)", ratio, cpu_ratio, "", "", ""),
            ],
        )
    )


if __name__ == "__main__":
    main()
