"""Embed every task statement and every job title once, at build time: `task_embeddings` and
`title_embeddings` (a request then embeds only its own text). Two derive steps share this module's
helpers: `task_embeddings` needs only the ingested task statements, so a build in two processes runs it
early beside the main chain; `title_embeddings` needs the emerging titles (`emerging` adds them to
`titles`), so it runs after that step.

The model is `taskshift.embedding` (WordLlama l2_supercat, pinned, read from its installed wheel).
Vectors are L2-normalised and stored as little-endian float16 blobs: 256 dimensions for task
statements; for titles the first TITLE_DIM dimensions (the model is trained Matryoshka-style, so a
prefix is itself an embedding), re-normalised, which halves the size of the 55k-title table and
changed the title benchmark by one title in forty (bench/profile_bench.py).

The metadata table records the model (package, version, sha256 of its weights and tokenizer) and the
sha256 of each table's blobs in row order; the service checks both before it uses the vectors.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import embedding

#: Dimensions kept for title vectors (a Matryoshka prefix of the model's 256).
TITLE_DIM = 128


def title_key(title: str) -> str:
    """How a title is keyed in `title_embeddings`: lower case, whitespace collapsed."""
    return " ".join(str(title).lower().split())


def task_vectors(encoder: embedding.Encoder, tasks: pd.DataFrame) -> pd.DataFrame:
    tasks = tasks.sort_values("task_id", kind="stable")
    vectors = encoder.encode(tasks["statement"].astype(str).tolist())
    return pd.DataFrame({"task_id": tasks["task_id"].to_numpy(), "vector": embedding.to_blobs(vectors)})


def title_vectors(encoder: embedding.Encoder, titles: pd.DataFrame, dim: int = TITLE_DIM) -> pd.DataFrame:
    keys = sorted({title_key(t) for t in titles["title"].unique()} - {""})
    vectors = embedding.normalise(np.ascontiguousarray(encoder.encode(keys)[:, :dim]))
    return pd.DataFrame({"title": keys, "vector": embedding.to_blobs(vectors)})


def shared() -> None:
    """The model, loaded once by a build that forks workers (`parallel.load_shared`): both embedding
    steps' workers then share it."""
    embedding.load()


def note_tasks(ctx, encoder: embedding.Encoder, tasks: pd.DataFrame) -> None:
    ctx.note("embedding_model", encoder.info,
             "the text-embedding model behind task_embeddings, title_embeddings and semantic matching "
             "(package and version pinned; sha256 of its weights and tokenizer files)")
    ctx.note("task_embeddings", {"rows": len(tasks), "dim": embedding.DIM, "dtype": "float16 little-endian",
                                 "sha256": embedding.checksum(tasks["vector"])},
             "task statement vectors: count, dimensions, storage, sha256 of the blobs in task_id order")


def note_titles(ctx, titles: pd.DataFrame) -> None:
    ctx.note("title_embeddings", {"rows": len(titles), "dim": TITLE_DIM, "dtype": "float16 little-endian",
                                  "sha256": embedding.checksum(titles["vector"])},
             "job title vectors (first dimensions of the model, re-normalised): count, dimensions, storage, "
             "sha256 of the blobs in title order")
