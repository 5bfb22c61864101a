"""Build time: raw files -> ingest (one module per source) -> derive -> contracts -> SQLite.

- `sources`: find, verify (sha256), fetch and read the pinned raw files
- `ingest/`: one module per source family, raw files -> tidy frames
- `derive/`: steps that make tables from the ingested frames, in `assemble.DERIVE_STEPS` order
- `curated`: the hand-curated tables in `dataset/curated/` (with their sources)
- `assemble`: the whole build, atomic and deterministic
"""
