"""The served site: the Datasette plugin (hooks, API routes, pages), its metadata and how it is served."""
