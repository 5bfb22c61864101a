"""Derive step: `title_embeddings`, one vector per distinct job title, the emerging titles included
(`taskshift.build.derive.embeddings`)."""
from __future__ import annotations

from taskshift import embedding
from taskshift.build.derive.embeddings import note_titles, title_vectors, shared  # noqa: F401 (shared: parallel.load_shared)


def derive(ctx) -> None:
    titles = title_vectors(embedding.load(), ctx.frames["titles"])
    ctx.frames["title_embeddings"] = titles
    note_titles(ctx, titles)
