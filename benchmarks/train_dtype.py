"""Training step cost by dtype: float32 against bf16 autocast, side by side on this CPU.

One forward + backward of the embedded model over a sequence of ``--tokens`` tokens, the unit
every SFT and DPO step is made of, alternating float32 and bf16 mixed precision (autocast, as
the trainer's ``bf16`` setting runs it) so both see the same machine load. Prints the CPU line
(with the dtype callgym picks), seconds per pass of each and the ratio last: on a CPU with native
bf16 (AVX512-BF16, AMX) bf16 should be faster; on AVX2 it is emulated and slower.

    python benchmarks/train_dtype.py --tokens 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from callgym.cpu import describe_cpu
from callgym.trainers.dpo import resolve_model_path


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smollm2-135m", help="model name or local HF folder")
    p.add_argument("--tokens", type=int, default=1000, help="sequence length (default 1000)")
    p.add_argument("--repeats", type=int, default=3, help="passes per dtype after a warm-up (default 3)")
    return p


def one_pass(model: torch.nn.Module, ids: torch.Tensor, bf16: bool) -> float:
    """Seconds for one forward + backward (gradients dropped after)."""
    started = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - started


def main() -> None:
    args = make_parser().parse_args()
    from transformers import AutoModelForCausalLM

    print(describe_cpu())
    model = AutoModelForCausalLM.from_pretrained(resolve_model_path(args.model), dtype=torch.float32)
    seeded = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (1, args.tokens), generator=seeded)
    times: dict[bool, list[float]] = {False: [], True: []}
    for bf16 in (False, True):  # warm-up: first passes allocate and pick kernels
        one_pass(model, ids, bf16)
    for _ in range(args.repeats):
        for bf16 in (False, True):
            times[bf16].append(one_pass(model, ids, bf16))
    fp32, bf16 = statistics.median(times[False]), statistics.median(times[True])
    print(f"float32:          {fp32:6.2f} s per pass ({fp32 / args.tokens * 1000:.1f} ms a token)")
    print(f"bf16 autocast:    {bf16:6.2f} s per pass ({bf16 / args.tokens * 1000:.1f} ms a token)")
    print(f"bf16 / float32 speed: {fp32 / bf16:.2f}x")


if __name__ == "__main__":
    main()
