"""SQL functions the taskshift plugin adds to every Datasette connection (the `prepare_connection` hook).

`taskshift_fts(text, mode)`: free text -> an FTS5 query that cannot be a syntax error, whatever the
text. The words of the text (letters and digits; punctuation, quotes, FTS5 operators and column
filters are separators) become quoted terms, joined with AND (mode 'all', the default) or OR ('any');
at most 16 words. Text with no word gives '""', which matches nothing. So `c++ developer`,
`AI/ML engineer`, `software-engineer`, `"`, `NEAR(`, `title:x` and '' are all safe in
`... where titles_fts match taskshift_fts(:title)`. Canned queries that search text use it.

`taskshift_code(text)`: a role code as people type it (15-1252, 151252, ' 15-1252.00') -> 15-1252.00.
"""
from __future__ import annotations

import re

MAX_WORDS = 16
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fts_query(text, mode: str = "all") -> str:
    words = list(dict.fromkeys(_WORD.findall(str(text or "").lower())))[:MAX_WORDS]
    if not words:
        return '""'
    return (" OR " if str(mode).lower() == "any" else " ").join(f'"{w}"' for w in words)


def role_code(text) -> str:
    """A role code as people type it -> the O*NET-SOC 2019 form: 15-1252.00 stays, 151252 / 15-1252 /
    15 1252 -> 15-1252.00, 15125201 -> 15-1252.01; anything else is returned trimmed (and matches nothing)."""
    text = str(text or "").strip()
    digits = re.sub(r"\D", "", text)
    if re.fullmatch(r"[\d\s.\-]+", text or "x") and len(digits) in (6, 8):
        return f"{digits[:2]}-{digits[2:6]}.{digits[6:8] or '00'}"
    return text


FUNCTIONS = {
    "taskshift_fts": (fts_query, 2),
    "taskshift_code": (role_code, 1),
}


def register(conn) -> None:
    for name, (fn, n_args) in FUNCTIONS.items():
        conn.create_function(name, n_args, fn, deterministic=True)
        if n_args == 2:
            conn.create_function(name, 1, fn, deterministic=True)
