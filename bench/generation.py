"""Benchmark: aggregate tokens/s of the student's generation engine against a plain loop.

    python -m bench.generation [--prompts 64] [--loop-prompts 16] [--max-new-tokens N ...] [--batch-size N]

The engine is `distilloop.student.generation.generate` with the params.yaml student settings (each prompt
prefilled alone, the batch decoded together from a preallocated cache, finished rows dropped). The baseline
is what one writes first: `model.generate` called one prompt at a time in the same dtype with the same
decoding settings, on a subset of the prompts spread evenly over them (prompt length, and so prefill cost,
varies by task family). Both answer the same chat-templated prompts with the default student (models/base
if present, else the bundled GGUF converted into a temporary directory). Prompts come from data/export,
else the bundled distilloop/data, else a built-in list of TSN C tasks. One run per `--max-new-tokens`
budget. Also reported: on the loop's prompts, how many greedy answers of the engine are identical to the
loop's (in bf16, batched and one-row matmuls round differently and tip greedy choices; in float32 they
agree). Both apply the shared decoding rules (distilloop/student/decoding.py) and stop each C answer at its closing fence (distilloop/student/stopping.py; the
loop through a StoppingCriteria). Also reported: what the stop check costs, as the time to feed every
generated token's text to the trackers against the engine's wall time. Writes metrics/bench/generation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.common import base_model_dir, save, stopwatch  # noqa: E402
from distilloop import config as params_module  # noqa: E402

TASKS = [
    "Write a C99 function `uint16_t vlan_tci_pack(uint8_t pcp, uint8_t dei, uint16_t vid)` that packs an "
    "IEEE 802.1Q tag control information field. Define VLAN_TPID for the C-tag EtherType.",
    "Write a C99 function `int vlan_vid_valid(uint16_t vid)` that returns 1 when a VLAN ID may be used "
    "on the wire and 0 for the reserved values.",
    "Write a C99 function `uint8_t gptp_message_type(const uint8_t *header)` that returns the messageType "
    "of a gPTP header. Define GPTP_MSG_SYNC and GPTP_MSG_FOLLOW_UP.",
    "Write a C99 function `int ptp_timestamp_add_ns(uint64_t *seconds, uint32_t *ns, uint32_t delta_ns)` "
    "that adds nanoseconds to a PTP timestamp and keeps the nanoseconds field below one second.",
    "Write a C99 function `int qbv_gcl_valid(const uint32_t *intervals_ns, size_t count, uint32_t cycle_ns)` "
    "that checks an 802.1Qbv gate control list: every interval above zero and their sum within the cycle.",
    "Write a C99 function `int32_t qav_send_slope(int32_t idle_slope, int32_t port_rate)` for the 802.1Qav "
    "credit-based shaper.",
    "Write a C99 function `uint32_t avtp_timestamp_diff(uint32_t later, uint32_t earlier)` that returns the "
    "difference of two AVTP presentation times, correct across the 32-bit wrap.",
    "Write a C99 function `int srp_class_pcp(char traffic_class)` that returns the PCP of SRP class 'A' or "
    "'B' and -1 otherwise. Define SRP_CLASS_A_INTERVAL_US.",
    "Write a C99 function `uint32_t crc32_ieee(const uint8_t *data, size_t length)` that computes the "
    "Ethernet CRC-32 bit by bit, without a table.",
    "Write a C99 function `int is_gptp_frame(const uint8_t *frame, size_t length)` that checks the "
    "destination MAC and EtherType of a gPTP frame. Define ETHERTYPE_GPTP.",
    "Write a C99 function `uint8_t avtp_subtype(const uint8_t *pdu)` and define AVTP_SUBTYPE_AAF, "
    "AVTP_SUBTYPE_CVF and AVTP_SUBTYPE_CRF.",
    "Write a C99 function `uint8_t qbv_gate_open(uint8_t gate_states, uint8_t traffic_class)` that tells "
    "whether the gate of a traffic class is open in an 802.1Qbv gate-state octet.",
    "Write a C99 function `int s_tag_present(const uint8_t *frame, size_t length)` that detects an 802.1ad "
    "service tag. Define ETHERTYPE_STAG.",
    "Write a C99 function `uint64_t avtp_stream_id(const uint8_t mac[6], uint16_t unique_id)` that builds "
    "a 64-bit AVTP stream ID.",
    "Write a C99 function `int msrp_is_frame(uint16_t ethertype)` that recognises MSRP frames. Define ETHERTYPE_MSRP.",
    "Write a C99 function `uint8_t vlan_pcp(uint16_t tci)` that extracts the priority code point of an "
    "802.1Q TCI, with a doc comment for each parameter.",
]


def load_prompts(count: int) -> tuple[list[str], str]:
    for folder in (Path("data/export"), Path("distilloop/data")):
        prompts = []
        for path in sorted(folder.rglob("*.jsonl")) if folder.exists() else []:
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if (
                    isinstance(row, dict)
                    and isinstance(row.get("prompt"), str)
                    and row.get("task", "c_code") == "c_code"
                ):
                    prompts.append(row["prompt"])
        if len(prompts) >= count:
            return prompts[:count], str(folder)
    variants = [
        f"{task} Variant {n}: keep it MISRA-C compliant." for n in range(count // len(TASKS) + 1) for task in TASKS
    ]
    return variants[:count], "built-in TSN C tasks"


TASK = "c_code"  # every bench prompt is a C task


def plain_loop(model_dir: Path, prompts: list[str], student) -> tuple[list[str], int, float]:
    """The baseline: one `model.generate` call per prompt in the engine's dtype, same decoding and stop rules."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria, StoppingCriteriaList

    from distilloop.hardware import prepare_cpu, resolve_dtype
    from distilloop.student.decoding import logits_processors
    from distilloop.student.generation import render_prompts
    from distilloop.student.stopping import answer_end

    class AnswerComplete(StoppingCriteria):
        def __init__(self):
            self.end = answer_end(TASK)

        def __call__(self, input_ids, scores, **kwargs):
            return torch.tensor([self.end.feed(tokenizer.decode(input_ids[0, -1:]))])

    prepare_cpu(0)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(resolve_dtype(student.dtype)).eval()
    texts, tokens = [], 0
    with stopwatch() as elapsed:
        for text in render_prompts(tokenizer, prompts, student):
            ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")
            length = ids["input_ids"].shape[1]
            rules = logits_processors(
                length, student.repetition_penalty, student.repeat_last_n, student.no_repeat_ngram_size
            )
            with torch.inference_mode():
                out = model.generate(
                    **ids,
                    max_new_tokens=student.token_budget(TASK),
                    do_sample=False,
                    repetition_penalty=1.0,
                    logits_processor=rules,
                    stopping_criteria=StoppingCriteriaList([AnswerComplete()]),
                    pad_token_id=tokenizer.pad_token_id,
                )[0, length:].tolist()
            if tokenizer.eos_token_id in out:
                out = out[: out.index(tokenizer.eos_token_id)]
            tokens += len(out)
            texts.append(tokenizer.decode(out, skip_special_tokens=True))
    return texts, tokens, elapsed()


def engine(model_dir: Path, prompts: list[str], student) -> tuple[list[str], int, float, float]:
    """(answers, tokens, seconds, seconds the stop check costs): the check's cost is measured by feeding
    every answer's tokens, one piece at a time, to fresh trackers as the engine does."""
    from distilloop.student.generation import generate
    from distilloop.student.model import load_student
    from distilloop.student.stopping import TokenPieces, answer_end

    model, tokenizer = load_student(model_dir, None, student)
    with stopwatch() as elapsed:
        generations = generate(model, tokenizer, prompts, student, description="engine", tasks=[TASK] * len(prompts))
    answers = [tokenizer(g.text, add_special_tokens=False)["input_ids"] for g in generations]
    pieces = TokenPieces(lambda token: tokenizer.decode([token]))
    with stopwatch() as checking:
        for answer in answers:
            end = answer_end(TASK)
            for token in answer:
                end.feed(pieces(token))
    return [g.text for g in generations], sum(g.tokens for g in generations), elapsed(), checking()


def measure(model_dir: Path, prompts: list[str], loop_every: int, loop_count: int, student) -> dict:
    """The loop on every `loop_every`-th prompt, then the engine on all of them, at one token budget."""
    loop_prompts = prompts[::loop_every][:loop_count]
    loop_texts, loop_tokens, loop_seconds = plain_loop(model_dir, loop_prompts, student)
    loop_rate = loop_tokens / loop_seconds
    texts, tokens, seconds, check_seconds = engine(model_dir, prompts, student)
    rate = tokens / seconds
    same = sum(a == b for a, b in zip(texts[::loop_every], loop_texts))
    print(
        f"max_new_tokens {student.max_new_tokens}: plain loop {len(loop_texts)} prompts, {loop_tokens} tokens, "
        f"{loop_seconds:.1f} s, {loop_rate:.1f} tokens/s; engine {len(prompts)} prompts, {tokens} tokens, "
        f"{seconds:.1f} s, {rate:.1f} tokens/s; {rate / loop_rate:.2f}x; identical greedy answers "
        f"{same}/{len(loop_texts)}; stop check {check_seconds / seconds:.2%} of the engine's time",
        flush=True,
    )
    return {
        "max_new_tokens": student.max_new_tokens,
        "engine_tokens_per_second": round(rate, 1),
        "engine_tokens": tokens,
        "engine_seconds": round(seconds, 1),
        "loop_prompts": len(loop_texts),
        "loop_tokens_per_second": round(loop_rate, 1),
        "loop_tokens": loop_tokens,
        "loop_seconds": round(loop_seconds, 1),
        "speedup_vs_loop": round(rate / loop_rate, 2),
        "identical_greedy_answers": f"{same}/{len(loop_texts)}",
        "stop_check_seconds": round(check_seconds, 4),
        "stop_check_share": round(check_seconds / seconds, 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--loop-prompts", type=int, default=16, help="spread evenly over the prompts")
    parser.add_argument(
        "--max-new-tokens", type=int, nargs="+", default=None, help="one run per budget; default: params.yaml student"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="default: params.yaml student")
    parser.add_argument("--dtype", default=None, help="engine and loop dtype; default: params.yaml student")
    args = parser.parse_args()

    params = params_module.load() if params_module.PARAMS_FILE.exists() else params_module.Params()
    overrides = {"batch_size": args.batch_size, "dtype": args.dtype}
    student = params.student.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    prompts, origin = load_prompts(args.prompts)
    model_dir = base_model_dir(Path(tempfile.mkdtemp(prefix="distilloop-bench-")))
    print(
        f"{len(prompts)} prompts from {origin}; model {model_dir}; batch {student.batch_size}, dtype {student.dtype}",
        flush=True,
    )
    # the loop's prompts spread evenly over the list: prompt length (and so prefill cost) varies by family
    step = max(1, len(prompts) // args.loop_prompts)
    runs = [
        measure(model_dir, prompts, step, args.loop_prompts, student.model_copy(update={"max_new_tokens": budget}))
        for budget in args.max_new_tokens or [student.max_new_tokens]
    ]
    save(
        "generation",
        {
            "prompts": len(prompts),
            "prompt_source": origin,
            "batch_size": student.batch_size,
            "dtype": student.dtype,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
