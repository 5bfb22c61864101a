"""The offline text-embedding model behind semantic matching (task statements, job titles, postings).

The model is WordLlama `l2_supercat` at 256 dimensions: a static token-embedding table (32,000
Llama-2 tokens x 256, float16) whose vectors are mean-pooled over the tokens of a text. Its weights and
tokenizer travel inside the `wordllama` wheel (pinned in pyproject.toml); nothing is downloaded, ever.

wordllama's own loader looks for the tokenizer in a folder that does not exist and then falls back to
the network, and importing it configures the root logger. So this module reads the two files
straight from the installed package (the same files `WordLlama.load(cache_dir=<package folder>,
disable_download=True)` reads, and the same mean pooling: a test checks the vectors are equal) with
`tokenizers`, `safetensors` and numpy, and checks their sha256 against the pinned ones first.

Used by the build (`taskshift.build.derive.embeddings`: every task statement and title embedded once,
stored in the database) and by the service (only the query text is embedded per request).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import itertools
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGE = "wordllama"
PACKAGE_VERSION = "0.4.0.post1"
CONFIG = "l2_supercat"
DIM = 256
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
TENSOR = "embedding.weight"
#: sha256 of the two files in the pinned wheel: a different model refuses to load.
WEIGHTS_SHA256 = "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5"
TOKENIZER_SHA256 = "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68"
MODEL_ID = f"{PACKAGE}=={PACKAGE_VERSION} {CONFIG} {DIM}-d"
#: How vectors are stored in the database: little-endian float16, DIM values, L2-normalised.
STORAGE_DTYPE = np.dtype("<f2")
#: Longest text embedded (characters); longer texts are cut (bounded cost per request).
MAX_CHARS = 2000
#: Texts pooled per step when embedding many (the build): keeps the gathered token vectors in cache.
POOL_CHUNK = 256


class ModelError(RuntimeError):
    """The pinned embedding model is missing or is not the pinned one."""


@dataclass(frozen=True)
class Encoder:
    tokenizer: object
    table: np.ndarray          # (vocab, DIM) float32
    info: dict                 # model id, package version, file checksums

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, DIM) float32, each row the mean of the text's token vectors, L2-normalised (0 if no token)."""
        texts = [t[:MAX_CHARS] for t in texts]
        distinct = list(dict.fromkeys(texts))
        if len(distinct) < len(texts):  # a text given several times is tokenized and pooled once
            row = {text: i for i, text in enumerate(distinct)}
            return self.encode(distinct)[[row[t] for t in texts]]
        if len(texts) < 64:  # a request: one thread (a thread pool costs more than it saves, most under load)
            token_ids = [self.tokenizer.encode(t, add_special_tokens=False).ids for t in texts]
        else:  # the build: the tokenizer's batch, without offsets where the version has it
            encode = getattr(self.tokenizer, "encode_batch_fast", self.tokenizer.encode_batch)
            token_ids = [e.ids for e in encode(texts, add_special_tokens=False)]
        return self.mean_pool(token_ids)

    def mean_pool(self, token_ids: list[list[int]]) -> np.ndarray:
        """(n, DIM) float32: the mean of each text's token vectors, L2-normalised (0 for a text without a token)."""
        out = np.zeros((len(token_ids), DIM), dtype=np.float32)
        lengths = np.fromiter(map(len, token_ids), dtype=np.int64, count=len(token_ids))
        ids = np.fromiter(itertools.chain.from_iterable(token_ids), dtype=np.int64, count=int(lengths.sum()))
        np.clip(ids, 0, self.table.shape[0] - 1, out=ids)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        # chunks keep the gathered token vectors and the temporaries in cache (row by row, the same numbers)
        for a in range(0, len(token_ids), POOL_CHUNK):
            b = min(a + POOL_CHUNK, len(token_ids))
            nonempty = lengths[a:b] > 0
            if not nonempty.any():
                continue
            gathered = self.table[ids[starts[a]:ends[b - 1]]]
            means = np.zeros((b - a, DIM), dtype=np.float32)
            means[nonempty] = np.add.reduceat(gathered, (starts[a:b] - starts[a])[nonempty], axis=0) / lengths[a:b][nonempty, None]
            out[a:b] = normalise(means)
        return out

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelError(f"the embedding model travels in the {PACKAGE} package: pip install '{PACKAGE}=={PACKAGE_VERSION}'")
    return Path(spec.origin).parent


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_ENCODER: Encoder | None = None
_LOCK = threading.Lock()


def load() -> Encoder:
    """The pinned model, read once per process from the installed package (never from the network)."""
    global _ENCODER
    if _ENCODER is None:
        with _LOCK:
            if _ENCODER is None:
                _ENCODER = _load()
    return _ENCODER


def _load() -> Encoder:
    from safetensors import safe_open
    from tokenizers import Tokenizer

    root = package_dir()
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    weights, tokenizer = root / WEIGHTS, root / TOKENIZER
    for path, expected in ((weights, WEIGHTS_SHA256), (tokenizer, TOKENIZER_SHA256)):
        if not path.is_file():
            raise ModelError(f"{path} is missing: the {PACKAGE} {PACKAGE_VERSION} wheel carries it")
        got = _sha256(path)
        if got != expected:
            raise ModelError(f"{path}: sha256 {got} is not the pinned {expected} ({PACKAGE} {version}; pinned {PACKAGE_VERSION})")
    tok = Tokenizer.from_file(str(tokenizer))
    tok.no_padding()
    tok.no_truncation()
    with safe_open(str(weights), framework="np") as f:
        table = np.ascontiguousarray(f.get_tensor(TENSOR).astype(np.float32))
    if table.shape[1] != DIM:
        raise ModelError(f"{weights}: {table.shape[1]} dimensions, expected {DIM}")
    info = {"model": MODEL_ID, "package": PACKAGE, "package_version": version, "config": CONFIG, "dim": DIM,
            "weights_sha256": WEIGHTS_SHA256, "tokenizer_sha256": TOKENIZER_SHA256, "pooling": "mean of token vectors, L2-normalised"}
    return Encoder(tokenizer=tok, table=table, info=info)


# --- storage -------------------------------------------------------------------------------------
def to_blobs(vectors: np.ndarray) -> list[bytes]:
    """One little-endian float16 blob per row (the storage format of the embedding tables)."""
    packed = np.ascontiguousarray(vectors, dtype=STORAGE_DTYPE)
    if not len(packed):
        return []
    data, size = packed.tobytes(), packed[0].nbytes  # slices of one buffer: no array object per row
    return [data[i:i + size] for i in range(0, len(data), size)]


def from_blobs(blobs, dim: int = DIM) -> np.ndarray:
    """(n, dim) float32 from stored blobs, re-normalised (float16 rounding)."""
    joined = b"".join(blobs)
    if len(joined) != len(blobs) * dim * STORAGE_DTYPE.itemsize:
        raise ModelError(f"embedding blobs are not {dim} x float16 each")
    return normalise(np.frombuffer(joined, dtype=STORAGE_DTYPE).reshape(len(blobs), dim).astype(np.float32))


def checksum(blobs) -> str:
    """sha256 over the stored blobs in table order (recorded in metadata, checked when loaded)."""
    h = hashlib.sha256()
    for b in blobs:
        h.update(b)
    return h.hexdigest()
