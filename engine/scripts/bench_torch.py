#!/usr/bin/env python3
"""The engine beside PyTorch on the zoo's own work: one command prints both and the ratio.

It runs `poser bench train` (the engine on the CPU backend, which writes the exact batches it
timed), exports the same model with `poser export-hf`, then repeats every workload in PyTorch
eager with `transformers`' `GPT2LMHeadModel` on the same token ids, batch sizes, optimiser
settings and thread count:

- fine-tune: all weights, AdamW, cross-entropy on the answer token at each prompt's last
  position (only the last position is unembedded, as the engine does);
- adapter: S3's rank-r adapter on one block's MLP output projection, the model frozen;
- pretrain: next-token cross-entropy over every real position (the base model's step);
- curated-pass: a no-grad forward, P(A)/P(B)/P(error) at the last position;
- interventions: S2's sweep on one prompt, one forward per noise magnitude at one block's
  output, last position, run as one batch (PyTorch has no cached last-position pass).

Positions count back from the answer as the zoo's config says (`poser_position_origin`), and
right padding is masked, so PyTorch computes what the engine computes. Timing is the mean over
the same timed units after the same untimed warm-up ones.

    pip install torch transformers
    cargo build --release -p poser-engine --bin poser
    python3 engine/scripts/bench_torch.py --threads 1
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--poser", default=str(ROOT / "target" / "release" / "poser"),
                        help="the poser binary (default: target/release/poser)")
    parser.add_argument("--model", default="saint-0")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads on both sides (RAYON_NUM_THREADS, torch.set_num_threads)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated workloads (default: all)")
    parser.add_argument("--keep", default="", help="keep the batches and export in this folder")
    return parser.parse_args()


def run_engine(args, scratch):
    bench = scratch / "engine.json"
    command = [args.poser, "bench", "train", "--model", args.model, "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--json-out", str(bench)]
    if args.only:
        command += ["--only", args.only]
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    subprocess.run(command, cwd=ROOT, check=True, env=env)
    subprocess.run([args.poser, "export-hf", "--model", args.model, "--out",
                    str(scratch / "hf")], cwd=ROOT, check=True, env=env)
    return json.loads(bench.read_text(encoding="utf-8"))


class Batch:
    """A right-padded batch as the engine builds it: ids, mask, positions, last indices."""

    def __init__(self, torch, examples, n_ctx, from_end):
        lens = [len(e["tokens"]) for e in examples]
        width = max(lens)
        self.lens = lens
        self.ids = torch.zeros((len(examples), width), dtype=torch.long)
        self.mask = torch.zeros((len(examples), width), dtype=torch.long)
        self.positions = torch.zeros((len(examples), width), dtype=torch.long)
        for row, example in enumerate(examples):
            n = lens[row]
            self.ids[row, :n] = torch.tensor(example["tokens"])
            self.mask[row, :n] = 1
            for t in range(width):
                t_real = min(t, n - 1)
                self.positions[row, t] = (n_ctx - n + t_real) if from_end else t_real
        self.last = torch.tensor([n - 1 for n in lens])
        self.targets = torch.tensor([e["target"] for e in examples])


def last_logits(torch, model, batch):
    hidden = model.transformer(input_ids=batch.ids, attention_mask=batch.mask,
                               position_ids=batch.positions).last_hidden_state
    last = hidden[torch.arange(len(batch.lens)), batch.last]
    return model.lm_head(last)


def time_units(units, warmup, work):
    times = []
    for unit in units:
        started = time.perf_counter()
        work(unit)
        times.append(time.perf_counter() - started)
    timed = times[warmup:]
    return sum(timed) / max(len(timed), 1)


def torch_workload(torch, transformers, hf_dir, workload, n_ctx, from_end):
    import copy
    base = transformers.GPT2LMHeadModel.from_pretrained(hf_dir, attn_implementation="eager")
    batches = [Batch(torch, b, n_ctx, from_end) for b in workload["batches"]]
    name = workload["name"]
    warmup = workload["warmup"]
    settings = workload["adamw"] or {}
    adamw = dict(lr=settings.get("learning_rate", 0.0),
                 betas=(settings.get("beta_1", 0.9), settings.get("beta_2", 0.999)),
                 eps=settings.get("epsilon", 1e-8), weight_decay=settings.get("weight_decay", 0.0))

    def answer_step(model, optimizer):
        """One AdamW step on cross-entropy of the answer at each prompt's last position."""
        def step(batch):
            loss = torch.nn.functional.cross_entropy(last_logits(torch, model, batch),
                                                     batch.targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
        return step

    if name == "fine-tune":
        model = copy.deepcopy(base).train()
        return time_units(batches, warmup,
                          answer_step(model, torch.optim.AdamW(model.parameters(), **adamw)))
    if name == "adapter":
        model = copy.deepcopy(base).train()
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        config = model.config
        rank = workload["adapter_rank"]
        d_mlp = config.n_inner or 4 * config.n_embd
        down = torch.nn.Parameter(torch.empty(d_mlp, rank).uniform_(-1, 1) * (1.0 / d_mlp) ** 0.5)
        up = torch.nn.Parameter(torch.zeros(rank, config.n_embd))
        projection = model.transformer.h[workload["adapter_block"]].mlp.c_proj
        projection.register_forward_hook(lambda _m, inputs, output: output + inputs[0] @ down @ up)
        return time_units(batches, warmup,
                          answer_step(model, torch.optim.AdamW([down, up], **adamw)))
    if name == "pretrain":
        model = copy.deepcopy(base).train()
        optimizer = torch.optim.AdamW(model.parameters(), **adamw)

        def step(batch):
            labels = batch.ids.masked_fill(batch.mask == 0, -100)
            loss = model(input_ids=batch.ids, attention_mask=batch.mask,
                         position_ids=batch.positions, labels=labels).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
        return time_units(batches, warmup, step)
    model = base.eval()
    if name == "curated-pass":
        def forward(batch):
            with torch.no_grad():
                torch.softmax(last_logits(torch, model, batch), dim=-1).tolist()
        return time_units(batches, warmup, forward)
    if name == "interventions":
        block = int(workload["hook"].split(".")[1])
        magnitudes = torch.tensor(workload["magnitudes"])
        generator = torch.Generator().manual_seed(7)

        def sweep(batch):
            variants = Batch(torch, workload_rows(batch, len(magnitudes)), n_ctx, from_end)
            last = variants.last
            noise = torch.rand((len(magnitudes), model.config.n_embd), generator=generator)
            noise = noise / noise.norm(dim=-1, keepdim=True) * magnitudes[:, None]

            def add_noise(_module, _inputs, output):
                hidden = output[0] if isinstance(output, tuple) else output
                hidden = hidden.clone()
                hidden[torch.arange(len(last)), last] += noise
                return (hidden,) + tuple(output[1:]) if isinstance(output, tuple) else hidden
            handle = model.transformer.h[block].register_forward_hook(add_noise)
            try:
                with torch.no_grad():
                    torch.softmax(last_logits(torch, model, variants), dim=-1).tolist()
            finally:
                handle.remove()
        return time_units(batches, warmup, sweep)
    raise SystemExit(f"unknown workload {name}")


def workload_rows(batch, copies):
    row = {"tokens": batch.ids[0, :batch.lens[0]].tolist(), "target": int(batch.targets[0])}
    return [row] * copies


def main():
    args = parse_args()
    try:
        import torch
        import transformers
    except ImportError as error:
        raise SystemExit(f"{error}\nhint: pip install torch transformers")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as temporary:
        scratch = pathlib.Path(args.keep or temporary)
        scratch.mkdir(parents=True, exist_ok=True)
        engine = run_engine(args, scratch)
        hf_config = json.loads((scratch / "hf" / "config.json").read_text(encoding="utf-8"))
        from_end = hf_config.get("poser_position_origin", "start") == "end"
        rows = []
        for workload in engine["workloads"]:
            torch_ms = 1e3 * torch_workload(torch, transformers, str(scratch / "hf"), workload,
                                            engine["n_ctx"], from_end)
            rows.append((workload, torch_ms))
    print(f"\nmodel {engine['model']}, {args.threads} thread(s) on both sides, "
          f"{args.steps} timed units after {args.warmup} untimed; "
          f"torch {torch.__version__} eager, transformers {transformers.__version__}")
    print(f"{'workload':<14} {'engine ms':>10} {'torch ms':>10} {'engine/torch':>13}  tokens/s (engine, torch)")
    for workload, torch_ms in rows:
        engine_ms = workload["ms_per_unit"]
        per_unit = workload["tokens"] / max(workload["timed"], 1)
        print(f"{workload['name']:<14} {engine_ms:>10.1f} {torch_ms:>10.1f} "
              f"{engine_ms / torch_ms:>12.2f}x  {1e3 * per_unit / engine_ms:>8.0f}, "
              f"{1e3 * per_unit / torch_ms:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
