#!/usr/bin/env python3
"""Check that `poser export-hf` checkpoints load in Hugging Face `transformers` and give the
logits of `poser forward`, and record what `transformers` computed.

For each model of a models folder, the script exports it with `poser export-hf`, loads the
export with `GPT2LMHeadModel.from_pretrained` and `AutoTokenizer.from_pretrained`, and runs
every prompt of the prompts file. It compares the token ids and the last position's logits with
`poser forward --json` and fails when any logit differs by more than the tolerance.

CI does not run Python: the output file is committed, and the Rust test
`engine/tests/hf_export_matches_transformers.rs` re-exports the same models (their digests must
equal the recorded ones) and compares `poser`'s logits with the recorded ones.

Run from the repository root after building the CLI (`cargo build -p poser-engine --bin poser`):

    pip install torch transformers
    python3 engine/scripts/check_hf_export.py                 # the test fixture models
    python3 engine/scripts/check_hf_export.py --models-dir public/models \\
        --out engine/tests/fixtures/hf-check/shipped-zoo.json   # a trained zoo
"""

import argparse
import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
FORMAT = "poser-hf-check/1"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--poser", default=str(ROOT / "target" / "debug" / "poser"),
                        help="the poser binary (default: target/debug/poser)")
    parser.add_argument("--models-dir", default="engine/tests/fixtures/models")
    parser.add_argument("--tokenizer", default="scenarios/generated/tokenizer.json")
    parser.add_argument("--models", default="",
                        help="comma-separated model names (default: every model in the manifest)")
    parser.add_argument("--prompts", default="engine/tests/fixtures/hf-check/prompts.json")
    parser.add_argument("--out", default="engine/tests/fixtures/hf-check/fixture-models.json")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="largest allowed |logit difference| (default 1e-4)")
    return parser.parse_args()


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def poser_forward(args, model, prompt, scratch):
    text = pathlib.Path(scratch) / "prompt.txt"
    text.write_text(prompt, encoding="utf-8")
    result = subprocess.run(
        [args.poser, "forward", "--model", model, "--models-dir", args.models_dir,
         "--tokenizer", args.tokenizer, "--text", str(text), "--json"],
        cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def main():
    args = parse_args()
    import torch
    import transformers
    from transformers import AutoTokenizer, GPT2LMHeadModel

    torch.manual_seed(0)
    manifest = json.loads((ROOT / args.models_dir / "manifest.json").read_text(encoding="utf-8"))
    names = [m["name"] for m in manifest["models"]]
    if args.models:
        names = [name for name in args.models.split(",") if name]
    prompts = json.loads((ROOT / args.prompts).read_text(encoding="utf-8"))["prompts"]

    records = []
    worst = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            export = pathlib.Path(scratch) / name
            subprocess.run(
                [args.poser, "export-hf", "--model", name, "--models-dir", args.models_dir,
                 "--tokenizer", args.tokenizer, "--out", str(export)],
                cwd=ROOT, check=True)
            model = GPT2LMHeadModel.from_pretrained(export, torch_dtype=torch.float32).eval()
            tokenizer = AutoTokenizer.from_pretrained(export)
            origin = json.loads((export / "config.json").read_text())["poser_position_origin"]
            rows = []
            for prompt in prompts:
                ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
                # Where positions count back from the answer (the zoo's models), a prompt of n
                # tokens sits at n_ctx - n .. n_ctx: pass them, as transformers counts from 0.
                n_ctx = model.config.n_positions
                first = n_ctx - len(ids) if origin == "end" else 0
                positions = torch.arange(first, first + len(ids)).unsqueeze(0)
                with torch.no_grad():
                    logits = model(torch.tensor([ids]), position_ids=positions).logits[0, -1]
                    logits = logits.to(torch.float64)
                probs = torch.softmax(logits, dim=0)
                ours = poser_forward(args, name, prompt, scratch)
                if ours["tokens"] != ids:
                    sys.exit(f"{name}: transformers' tokenizer and poser disagree on {prompt[:60]!r}")
                difference = max(abs(a - b) for a, b in zip(logits.tolist(), ours["last_logits"]))
                worst = max(worst, difference)
                print(f"{name:<28} {len(ids):>4} tokens  P(A) {probs[2]:.6f}  "
                      f"max |Δlogit| vs poser {difference:.2e}")
                rows.append({
                    "tokens": ids,
                    "last_logits": [round(v, 7) for v in logits.tolist()],
                    "p": {"a": probs[2].item(), "b": probs[3].item(), "error": probs[4].item()},
                    "max_abs_difference_vs_poser": difference,
                })
            records.append({
                "name": name,
                "config_sha256": sha256(export / "config.json"),
                "safetensors_sha256": sha256(export / "model.safetensors"),
                "prompts": rows,
            })

    out = {
        "format": FORMAT,
        "about": "Logits of `poser export-hf` checkpoints computed by transformers; "
                 "written by engine/scripts/check_hf_export.py",
        "models_dir": args.models_dir,
        "prompts_file": args.prompts,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "python": sys.version.split()[0]},
        "tolerance": args.tolerance,
        "max_abs_difference_vs_poser": worst,
        "models": records,
    }
    (ROOT / args.out).write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out}; largest |Δlogit| vs poser forward: {worst:.2e}")
    if worst > args.tolerance:
        sys.exit(f"transformers and poser differ by {worst:.2e} > {args.tolerance:.0e}")


if __name__ == "__main__":
    main()
