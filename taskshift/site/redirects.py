"""Role links people can type and share.

- `/{database}/roles/15-1252.00`: Datasette reads the `.00` of a dotted primary key as a format
  extension and answers "Record not found"; its own row URL tilde-encodes the dot
  (`/taskshift/roles/15-1252~2E00`). This route redirects the dotted form there (query string kept).
- `/role/{code}`: a short link to the role, redirected to its row page for now (the site's role page
  will take this path over). A code written another way (15-1252, 151252) goes to the role it means;
  an unknown code or a title answers 404 with the same suggestions as the API and the CLI
  (`taskshift.service.suggest`).
"""
from __future__ import annotations

import html
from urllib.parse import unquote

from datasette.utils import tilde_encode
from datasette.utils.asgi import Response

DOTTED_ROW = r"^/(?P<database>[^/]+)/roles/(?P<code>\d{2}-\d{4}\.\d{2})$"
SHORT_ROLE = r"^/role/(?P<code>[^/]+)$"


def _row_url(datasette, database: str, code: str, query: str = "") -> str:
    url = datasette.urls.row(database, "roles", tilde_encode(code))
    return f"{url}?{query}" if query else url


async def dotted_row(request, datasette):
    database, code = request.url_vars["database"], request.url_vars["code"]
    if database not in datasette.databases:
        return Response.html("<h1>Not found</h1>", status=404)
    return Response.redirect(_row_url(datasette, database, code, request.query_string))


async def short_role(request, datasette):
    from taskshift.service import ServiceError
    from taskshift.service.suggest import check_role_code, render
    from taskshift.site.sql_functions import role_code

    names = sorted(getattr(datasette, "_taskshift_databases", set()))
    if not names:
        return Response.html("<h1>No taskshift database is served</h1>", status=503)
    database, code = names[0], unquote(request.url_vars["code"])
    db = datasette.get_database(database)

    def find(conn):
        for candidate in dict.fromkeys([code, role_code(code)]):
            try:
                return check_role_code(conn, candidate), None
            except ServiceError as err:
                error = err
        return None, error

    found, error = await db.execute_fn(find)
    if found is not None:
        return Response.redirect(_row_url(datasette, database, found))
    e = render(error.errors, "site")[0]
    links = "".join(f'<li><a href="{html.escape(_row_url(datasette, database, c))}">{html.escape(c)}</a></li>'
                    for c in e.get("suggestions") or [])
    body = (f"<h1>No role {html.escape(code)}</h1><p>{html.escape(e['problem'])}</p>"
            + (f"<ul>{links}</ul>" if links else ""))
    return Response.html(body, status=404)


ROUTES = [(DOTTED_ROW, dotted_row), (SHORT_ROLE, short_role)]
