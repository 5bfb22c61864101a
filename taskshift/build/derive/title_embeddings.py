"""Derive step: `title_embeddings`, one vector per distinct job title, the emerging titles included
(`taskshift.build.derive.embeddings`)."""
from __future__ import annotations

from taskshift import embedding
from taskshift.build.derive.embeddings import note_titles, title_vectors


def shared() -> None:
    """The model, loaded once by a build that forks workers (`parallel.load_shared`): they share it."""
    embedding.load()


def derive(ctx) -> None:
    titles = title_vectors(embedding.load(), ctx.frames["titles"])
    ctx.frames["title_embeddings"] = titles
    note_titles(ctx, titles)
