"""The served site: the Datasette plugin (`plugin`: metadata, canned queries, the scoring API) and the
pages people read (`pages`: home, role, sector, measure, workforce and API docs, with their templates
and static files in `templates/` and `static/`).

This package is itself registered as a Datasette plugin (entry point `taskshift_pages`) so that
Datasette finds `templates/` and `static/` beside it; its hooks are those of `pages`.
"""
from taskshift.site.pages import (extra_css_urls, extra_template_vars, prepare_jinja2_environment,  # noqa: F401
                                  register_routes, render_cell, skip_csrf, startup)
