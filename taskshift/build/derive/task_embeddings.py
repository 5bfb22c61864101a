"""Derive step: `task_embeddings`, one vector per task statement (`taskshift.build.derive.embeddings`)."""
from __future__ import annotations

from taskshift import embedding
from taskshift.build.derive.embeddings import note_tasks, task_vectors, shared  # noqa: F401 (shared: parallel.load_shared)


def derive(ctx) -> None:
    encoder = embedding.load()
    tasks = task_vectors(encoder, ctx.frames["tasks"])
    ctx.frames["task_embeddings"] = tasks
    note_tasks(ctx, encoder, tasks)
