"""Derive steps of the build: each module has `derive(ctx)`, reads frames from `ctx.frames` and writes
new ones; they run in `taskshift.build.assemble.DERIVE_STEPS` order and never touch the service or site."""
