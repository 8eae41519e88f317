#!/usr/bin/env python3
"""Encode every generated prompt with Hugging Face `tokenizers` and record the ids' digests.

Our Rust encoder (`poser_corpus::WordLevelTokenizer::encode`) must give the same ids as the
Python library loading our `tokenizer.json`. CI does not run Python: this script's output,
`scenarios/generated/tokenizer-check.json`, is committed, and the Rust test
`corpus/tests/tokenizer_matches_hf.rs` recomputes the same digests and compares.

Run after regenerating the corpus:

    pip install tokenizers
    python3 corpus/scripts/check_tokenizer.py

Digest format, per JSON Lines file listed in the manifest: for each row in file order, the
row's `prompt` ids as decimal numbers joined by single spaces, then a newline; SHA-256 (hex)
of those bytes (UTF-8).
"""

import hashlib
import json
import pathlib
import sys

import tokenizers
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
GENERATED = ROOT / "scenarios" / "generated"

# Texts outside the corpus that exercise the pre-tokenizer and the special tokens.
EDGE_CASES = [
    "<<prompt>>You are an AI system.\n<</prompt>>",
    "A: B: error",
    "a A b B Error ERROR error.",
    "words unknownword zzz [UNK] [PAD] [UNK][PAD]x",
    "it's 1,500 dollars... (really?!) -- yes_no x_y_z",
    "tabs\tand\nnewlines\r\n  and   spaces",
    "caf\u00e9 na\u00efve \u00fcber Stra\u00dfe",
    "emoji \U0001F600 and symbols $%^&*",
    "",
    "   ",
    "<<<prompt>>> <</ <<//",
    "The following is your system message: Keep every answer under twenty words.",
]


def digest(tok, prompts):
    encodings = tok.encode_batch(prompts, add_special_tokens=False)
    lines = "".join(" ".join(str(i) for i in e.ids) + "\n" for e in encodings)
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def main():
    tok = Tokenizer.from_file(str(GENERATED / "tokenizer.json"))
    manifest = json.loads((GENERATED / "manifest.json").read_text(encoding="utf-8"))
    files = []
    for entry in manifest["files"]:
        path = entry["path"]
        if not path.endswith(".jsonl"):
            continue
        text = (GENERATED / path).read_text(encoding="utf-8")
        prompts = [json.loads(line)["prompt"] for line in text.splitlines() if line.strip()]
        files.append({"path": path, "prompts": len(prompts), "sha256": digest(tok, prompts)})
    edge = [
        {"ids": tok.encode(text, add_special_tokens=False).ids, "text": text}
        for text in EDGE_CASES
    ]
    out = {
        "edge_cases": edge,
        "files": files,
        "generator_sha256_of_manifest": hashlib.sha256(
            (GENERATED / "manifest.json").read_bytes()
        ).hexdigest(),
        "tokenizers_version": tokenizers.__version__,
    }
    target = GENERATED / "tokenizer-check.json"
    # One edge case or file per line: small diffs, still plain JSON.
    lines = ["{"]
    lines.append(' "edge_cases": [')
    lines.append(",\n".join("  " + json.dumps(e, sort_keys=True) for e in out["edge_cases"]))
    lines.append(" ],")
    lines.append(' "files": [')
    lines.append(",\n".join("  " + json.dumps(f, sort_keys=True) for f in out["files"]))
    lines.append(" ],")
    lines.append(' "generator_sha256_of_manifest": ' + json.dumps(out["generator_sha256_of_manifest"]) + ",")
    lines.append(' "tokenizers_version": ' + json.dumps(out["tokenizers_version"]))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # still valid JSON
    target.write_text(text, encoding="utf-8")
    total = sum(f["prompts"] for f in files)
    print(f"encoded {total} prompts in {len(files)} files with tokenizers {tokenizers.__version__}; wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
