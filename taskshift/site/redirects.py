"""Role links people can type and share.

- `/{database}/roles/15-1252.00`: Datasette reads the `.00` of a dotted primary key as a format
  extension and answers "Record not found"; its own row URL tilde-encodes the dot
  (`/taskshift/roles/15-1252~2E00`). This route redirects the dotted form there (query string kept).

`/role/{code}`, the short link to a role, is the role page (`taskshift.site.pages`): a code written
another way (15-1252, 151252) redirects to the role it means; an unknown code or a title answers 404
with the same suggestions as the API and the CLI (`taskshift.service.suggest`).
"""
from __future__ import annotations

from datasette.utils import tilde_encode
from datasette.utils.asgi import Response

DOTTED_ROW = r"^/(?P<database>[^/]+)/roles/(?P<code>\d{2}-\d{4}\.\d{2})$"


def _row_url(datasette, database: str, code: str, query: str = "") -> str:
    url = datasette.urls.row(database, "roles", tilde_encode(code))
    return f"{url}?{query}" if query else url


async def dotted_row(request, datasette):
    database, code = request.url_vars["database"], request.url_vars["code"]
    if database not in datasette.databases:
        return Response.html("<h1>Not found</h1>", status=404)
    return Response.redirect(_row_url(datasette, database, code, request.query_string))


ROUTES = [(DOTTED_ROW, dotted_row)]
