"""Matching text to the database: a job title to roles, a free-text task to an O*NET task statement."""
from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass

import pandas as pd

from taskshift.service import models as m
from taskshift.service.errors import NotFound, validate
from taskshift.service.index import BASE_ROLE_MATCH_RATIO, KIND_ORDER, Index, _memo, _q, index_for
from taskshift.service.semantic import with_semantic_fallback

STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the their them these this those to "
    "with within about over under per via your you our we i my etc".split())
_WORD = re.compile(r"[^\W_]+", re.UNICODE)



def _words(text: str, limit: int) -> list[str]:
    words = list(dict.fromkeys(_WORD.findall(text.lower())))
    kept = [w for w in words if w not in STOPWORDS] or words
    return kept[:limit]


def match_task(conn: sqlite3.Connection, text: str, base_role: str | None = None, field_name: str = "text") -> m.TaskMatch:
    """The O*NET task statement that best matches free text (FTS5 BM25 over tasks_fts)."""
    idx = index_for(conn)
    words = _words(text, 32)
    if not words:  # no word, no statement can match: the same answer as words that match nothing
        raise NotFound(field_name, f"has no words to match, so no O*NET task statement matches {text[:80]!r}", "no_words")
    key = ("task_text", tuple(words), base_role)
    hit = _memo(idx, key, lambda: _match_task(conn, idx, words, base_role))
    if hit is False:
        raise NotFound(field_name, f"no O*NET task statement matches {text[:80]!r}", "no_match")
    return hit.model_copy(update={"query": text})


def _match_task(conn, idx: Index, words: list[str], base_role: str | None):
    query = " OR ".join(f'"{w}"' for w in words)
    rows = _q(conn, "select rowid, bm25(tasks_fts) from tasks_fts where tasks_fts match ? order by rank limit 4",
                        (query,)).fetchall()
    if not rows:
        return False
    best = rows[0]
    in_base = False
    if base_role is not None:
        mine = _q(conn,
            "select rowid, bm25(tasks_fts) from tasks_fts where tasks_fts match ? and rowid in "
            "(select task_id from tasks where role_code = ?) order by rank limit 1", (query, base_role)).fetchall()
        if mine and -mine[0][1] >= BASE_ROLE_MATCH_RATIO * -best[1]:
            best, in_base = mine[0], True

    def cand(row) -> m.TaskCandidate:
        pos = idx.task_pos[int(row[0])]
        return m.TaskCandidate(task_id=int(row[0]), role_code=idx.codes[idx.task_role[pos]],
                               statement=idx.statements[pos], relevance=-float(row[1]))

    top = cand(best)
    alternatives = [cand(r) for r in rows if int(r[0]) != top.task_id][:3]
    return m.TaskMatch(query="", task_id=top.task_id, role_code=top.role_code, statement=top.statement,
                       relevance=top.relevance, in_base_role=in_base, alternatives=alternatives)


# --- title matching ------------------------------------------------------------------------------
# A job title as postings write it ("Sr. Software Engineer (Remote) - Chicago, IL", "RN - ICU - Night
# Shift", "SDR") -> O*NET-SOC roles. `lexical_match` is one pure lexical pass that returns its evidence
# (what it removed and expanded, which title matched and how); a later fallback (semantic) can be chained
# after it when it finds nothing. The words it expands or drops are data: the title_aliases table
# (dataset/curated/title_aliases.csv, each row with its source).
#
# 1. Clean-up: a trailing location ("- Chicago, IL", "(Austin, TX)"), pay ("$25/hr"), parentheses that
#    only hold a modifier ("(Remote)"); the title is split into segments at " - ", " | ", ":" and ", ";
#    the first segment with a word that is not a modifier is the title, the others are context.
# 2. Exact: the title (then without modifiers, with acronyms expanded, without level words) equal to a
#    title of the titles table, whose parts "Short (Long)" both count; case, punctuation and a plural
#    s aside, spelling variants unified. Several roles can share a title: the one whose titles hold
#    the context words wins, then the better title kind, more titles equal to it, more workers.
# 3. Otherwise FTS5 over titles_fts with every term quoted (no query syntax reaches FTS5): titles are
#    ranked by whether they contain the title's head word (its last word), the share of the query's
#    words they contain, the share of their own words the query covers, then BM25.
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:\+\+|#)?")
_FTS_STOP = frozenset("a an and are as at by for from in of on or the to with".split())
_DASHES = re.compile(r"\s+[-\u2013\u2014|]+\s+|\s*[|:;]\s*|\s*,\s+(?![A-Z]{2}\b)")
# a trailing "City, ST" (a US state code) after a separator: "- Chicago, IL", "(Austin, TX)", "| Dallas. TX",
# "in Denver, CO"; "Software Engineer, Backend" is not a location
_LOCATION = re.compile(r"(?:\s*[-\u2013\u2014|,@(]\s*|\s+in\s+|\s+at\s+)(?:[A-Z][A-Za-z'\-]*\.?\s*){1,4}[,.]\s*[A-Z]{2}(?:\s+\d{5})?\s*\)?\s*$")
_PAY = re.compile(r"\$\s?[\d,.]+\s*[kK]?(?:\s*(?:-|to)\s*\$?\s?[\d,.]+\s*[kK]?)?(?:\s*(?:/|per|an|a)\s*(?:hr|hour|year|yr|week|wk|annum))?")
_PARENS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
METHODS = ("exact", "exact_normalized", "fts_all_terms", "fts_some_terms")


def _tokens(text: str, case_sensitive: frozenset = frozenset()) -> list[str]:
    """Lower-case word tokens (c++ and c# kept); tokens written exactly as a case-sensitive alias keep their case."""
    return [t if t in case_sensitive else t.lower() for t in _TOKEN.findall(text)]


def _stem(token: str) -> str:
    """A crude stem (the first five letters) to compare a title with an occupation name (manager ~ management)."""
    return token[:5]


@functools.lru_cache(maxsize=65536)
def _sing1(t: str) -> str:
    return t[:-1] if len(t) > 3 and t.endswith("s") and not t.endswith("ss") else t


def _sing(tokens) -> tuple[str, ...]:
    return tuple(map(_sing1, tokens))


@dataclass
class Lexicon:
    """Title lookup tables of one database (built once, kept on the Index)."""
    exact: dict                      # canonical token tuple -> list of (role_code, title, kind)
    role_words: dict                 # role_code -> set of canonical tokens in its titles (context)
    role_stems: dict                 # role_code -> stems of the words of its O*NET occupation title
    prior: dict                      # role_code -> workers per role (employment / roles sharing it)
    spelling: list                   # (alias tokens, expansion tokens)
    expand: list                     # (alias tokens, expansion tokens, kind, source), longest first
    levels: list                     # (level token tuple, position: anywhere, start, end, edge)
    modifiers: list                  # modifier token tuples
    case_sensitive: frozenset
    alias_words: dict                # original alias token -> expansion tokens (for FTS concepts)
    spell_first: frozenset = frozenset()  # first tokens of the spelling aliases (a fast "nothing to unify")

    def canon(self, tokens) -> tuple[str, ...]:
        tokens = list(tokens)
        if self.spelling and not self.spell_first.isdisjoint(tokens):
            tokens = _replace(tokens, self.spelling)
        return _sing(tokens)


def _replace(tokens: list[str], pairs) -> list[str]:
    if not pairs:
        return tokens
    out, i = [], 0
    while i < len(tokens):
        for alias, repl in pairs:
            if tuple(tokens[i:i + len(alias)]) == alias:
                out += list(repl)
                i += len(alias)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _lexicon(conn, idx: Index) -> Lexicon:
    lex = idx.extras.get("title_lexicon")
    if lex is not None:
        return lex
    try:
        rows = _q(conn, "select alias, expansion, kind, case_sensitive, source, position from title_aliases").fetchall()
    except sqlite3.OperationalError:  # a database built before title_aliases existed
        rows = []
    positions = {tuple(_tokens(a)): p for a, _e, k, _c, _s, p in rows if k == "level"}
    rows = [r[:5] for r in rows]
    case_sensitive = frozenset(a for a, _e, _k, cs, _s in rows if cs)
    spelling = sorted(((tuple(_tokens(a)), tuple(_tokens(e))) for a, e, k, _c, _s in rows if k == "spelling"),
                      key=lambda x: -len(x[0]))
    expand = sorted(((tuple(_tokens(a, case_sensitive)), tuple(_tokens(e)), k, src) for a, e, k, _c, src in rows
                     if k in ("acronym", "abbreviation", "synonym")), key=lambda x: -len(x[0]))
    levels = sorted(((ph, positions[ph]) for ph in positions), key=lambda x: -len(x[0]))
    modifiers = sorted((tuple(_tokens(a)) for a, _e, k, _c, _s in rows if k == "modifier"), key=lambda x: -len(x))
    lex = Lexicon(exact={}, role_words={}, role_stems={}, prior={}, spelling=spelling, expand=expand, levels=levels,
                  modifiers=modifiers, case_sensitive=case_sensitive,
                  alias_words={a[0]: e for a, e, _k, _s in expand if len(a) == 1},
                  spell_first=frozenset(a[0] for a, _e in spelling))
    for code, title, kind in _q(conn, "select role_code, title, kind from titles"):
        if code not in idx.role_pos:
            continue
        words = lex.role_words.setdefault(code, set())
        parts = [title] + [m.group(1) or m.group(2) for m in _PARENS.finditer(title)]
        if kind == "occupation":
            # "Purchasing Agents, Except Wholesale, ..." and "Substitute Teachers, Short-Term" are also
            # "Purchasing Agents" and "Substitute Teachers"; "Veterinary Assistants and Laboratory Animal
            # Caretakers" is also its first part (not the second: in "Medical Secretaries and Administrative
            # Assistants" the first word qualifies both)
            parts.append(title.split(",")[0])
            if "," not in title and " and " in title:
                parts.append(title.split(" and ")[0])
        outside = _PARENS.sub(" ", title)
        if outside.strip() != title.strip():
            parts.append(outside)
        for part in dict.fromkeys(parts):
            key = lex.canon(_tokens(part))
            if not key:
                continue
            words.update(key)
            hits = lex.exact.setdefault(key, [])
            if (code, title, kind) not in hits:
                hits.append((code, title, kind))
    for r in idx.roles.itertuples(index=False):
        emp = None if pd.isna(r.employment) else float(r.employment)
        share = getattr(r, "roles_sharing_labor_code", None)
        share = 1.0 if share is None or pd.isna(share) or share < 1 else float(share)
        lex.prior[r.code] = 0.0 if emp is None else emp / share
        lex.role_words.setdefault(r.code, set()).update(lex.canon(_tokens(r.title)))
        lex.role_stems[r.code] = {_stem(t) for t in lex.canon(_tokens(r.title)) if t not in _FTS_STOP}
    idx.extras["title_lexicon"] = lex
    return lex


@dataclass
class ParsedTitle:
    title: str                       # the segment taken as the title, cleaned
    tokens: list[str]
    context: list[str]               # words of the other segments (canonical)
    removed: list[tuple[str, str]]   # (text, kind): location, pay, modifier, level (parts and words)
    parts: list[tuple[str, str]]     # the parts removed before the words: location, pay, parentheses, segments
    variants: list[tuple[tuple[str, ...], str, list]]  # (canonical tokens, description, edits)
    core: list[str]                  # tokens without modifiers and level words, aliases expanded


def _strip(tokens: list[str], phrases, where: str) -> tuple[list[str], list[str]]:
    """Remove phrases from tokens: anywhere, or only as a prefix / suffix. Returns (kept, removed)."""
    kept, removed = list(tokens), []
    changed = True
    while changed and kept:
        changed = False
        for ph in phrases:
            n = len(ph)
            if where in ("prefix", "any") and tuple(kept[:n]) == ph and len(kept) > n:
                removed.append(" ".join(ph)); kept = kept[n:]; changed = True; break  # noqa: E702
            if where in ("suffix", "any") and tuple(kept[-n:]) == ph and len(kept) > n:
                removed.append(" ".join(ph)); kept = kept[:-n]; changed = True; break  # noqa: E702
            if where == "any":
                for i in range(1, len(kept) - n):
                    if tuple(kept[i:i + n]) == ph:
                        removed.append(" ".join(ph)); kept = kept[:i] + kept[i + n:]; changed = True; break  # noqa: E702
                if changed:
                    break
    return kept, removed


def parse_title(raw: str, lex: Lexicon) -> ParsedTitle:
    """Split a posting title into the title proper and its context, and list the variants to try."""
    text = " ".join(str(raw).replace("\u2019", "'").split())
    removed: list[tuple[str, str]] = []
    m = _LOCATION.search(text)
    if m and m.start() > 0:
        removed.append((re.sub(r"^(?:in|at)\s+", "", m.group(0).strip(" -,|()@\u2013\u2014")), "location"))
        text = text[:m.start()]
    for m in list(_PAY.finditer(text)):
        removed.append((m.group(0).strip(), "pay"))
    text = _PAY.sub(" ", text)
    inner = []
    for m in _PARENS.finditer(text):
        content = (m.group(1) or m.group(2) or "").strip()
        toks = _tokens(content, lex.case_sensitive)
        if toks and all(t in {w for ph in lex.modifiers for w in ph} for t in toks):
            removed.append((content, "modifier"))
        elif toks:
            inner.append(content)
    text = _PARENS.sub(" ", text)
    segments = [seg for seg in _DASHES.split(text) if _tokens(seg)]
    modifier_words = {w for ph in lex.modifiers for w in ph}

    def only_modifiers(seg: str) -> bool:
        kept, _ = _strip(lex.canon(_tokens(seg.lower())), lex.modifiers, "any")
        toks = _tokens(seg.lower())
        return all(t in modifier_words for t in toks) or not kept or (len(toks) <= 3 and all(
            t in modifier_words or t.isdigit() for t in toks))

    title_seg = next((seg for seg in segments if not only_modifiers(seg)), segments[0] if segments else "")
    context: list[str] = []
    level_words = {ph for ph, _p in lex.levels}
    for seg in segments:
        if seg is title_seg:
            continue
        if lex.canon(_tokens(seg.lower())) in level_words:   # "Software Engineer, Senior"
            removed.append((seg.strip(), "level"))
        elif only_modifiers(seg):
            removed.append((seg.strip(), "modifier"))
        else:
            context += [t for t in lex.canon(_tokens(seg.lower())) if t not in _FTS_STOP]
    # an acronym in parentheses that spells out the title (Registered Nurse (RN)) adds nothing;
    # other parenthesised words are context (Nurse (ICU))
    for content in inner:
        toks = lex.canon(_tokens(content, lex.case_sensitive))
        context += [t for t in toks if t not in _FTS_STOP]
    parts = list(removed)
    tokens = _tokens(title_seg, lex.case_sensitive)
    base = list(lex.canon(tokens))
    no_mod, mods = _strip(base, lex.modifiers, "any")
    removed += [(x, "modifier") for x in mods]
    # level words only where postings put them (title_aliases.position): Lead Engineer, Engineer II,
    # Apprentice Plumber; so Elementary School Principal and Sales Associate keep theirs
    levels = []
    no_lvl = no_mod
    for where, allowed in (("any", ("anywhere",)), ("prefix", ("start", "edge")), ("suffix", ("end", "edge"))):
        no_lvl, gone = _strip(no_lvl, [ph for ph, p in lex.levels if p in allowed], where)
        levels += gone

    def expand(toks):
        out, i, edits = [], 0, []
        while i < len(toks):
            for alias, repl, kind, src in lex.expand:
                if tuple(toks[i:i + len(alias)]) == alias:
                    out += list(repl)
                    edits.append((" ".join(alias), " ".join(repl), kind, src))
                    i += len(alias)
                    break
            else:
                out.append(toks[i])
                i += 1
        return list(_sing(out)), edits

    variants = []
    seen = set()

    def add(toks, how, edits):
        key = tuple(t.lower() for t in toks)
        if key and key not in seen:
            seen.add(key)
            variants.append((key, how, edits))

    mod_edits = [("modifier", x) for x in mods]
    lvl_edits = [("level", x) for x in levels]
    add(base, "the title as written", [])
    add(no_mod, "without modifiers", mod_edits)
    exp_mod, e1 = expand(no_mod)
    add(exp_mod, "acronyms expanded", mod_edits + [("expanded", e) for e in e1])
    add(no_lvl, "without level words", mod_edits + lvl_edits)
    exp_lvl, e2 = expand(no_lvl)
    add(exp_lvl, "without level words, acronyms expanded", mod_edits + lvl_edits + [("expanded", e) for e in e2])
    # "Receptionist/Front Desk", "Firefighter/EMT": each side of a slash on its own
    if "/" in title_seg:
        for side in title_seg.split("/"):
            toks = list(lex.canon(_tokens(side, lex.case_sensitive)))
            toks, _ = _strip(toks, lex.modifiers, "any")
            add(toks, f"the part '{side.strip()}' of a title with a slash", mod_edits)
    removed += [(x, "level") for x in levels]
    return ParsedTitle(title=title_seg.strip(), tokens=base, context=list(dict.fromkeys(context)), removed=removed, parts=parts,
                       variants=variants, core=exp_lvl or exp_mod or base)


def warm_title_lexicon(conn: sqlite3.Connection) -> None:
    """Build the title lookup tables of the database now (the server's start-up), not on the first request."""
    _lexicon(conn, index_for(conn))


def match_title(conn: sqlite3.Connection, title: str, limit: int = 10) -> m.MatchResponse:
    """Roles ranked for a job title as postings write it (`lexical_match`), then by meaning where words fail
    (`taskshift.service.semantic.with_semantic_fallback`)."""
    return with_semantic_fallback(conn, lexical_match(conn, title, limit), limit)


def lexical_match(conn: sqlite3.Connection, title: str, limit: int = 10) -> m.MatchResponse:
    """Roles for a job title: exact title matches after posting clean-up, else FTS5 with every term quoted.

    Returns the matches with their evidence (method, matched title, coverage) and what the clean-up
    did (`removed`, `expanded`, the `variant` that matched); `method` is "none" when nothing matched,
    the point where another matcher can take over.
    """
    q = validate(m.MatchQuery, {"title": title, "limit": limit})
    idx = index_for(conn)
    if not _WORD.findall(q.title):  # a title with no word matches no role (as the OpenAPI says: not an error)
        return m.MatchResponse(query=q.title, title=q.title.strip() or None, method="none", matches=[])
    key = ("title", q.title.strip(), q.limit)
    hit = _memo(idx, key, lambda: _lexical_match(conn, idx, q.title, q.limit))
    # the memo is keyed on the stripped title: the body echoes this request's title, never the one that filled it
    return hit if hit.query == q.title else hit.model_copy(update={"query": q.title})


def _edits(parsed: ParsedTitle, edits) -> tuple[list[m.TitleEdit], list[m.TitleEdit]]:
    """What the clean-up removed (the parts, then the words of the variant that matched) and expanded."""
    removed = [m.TitleEdit(text=t, kind=k) for t, k in parsed.parts]
    expanded = []
    for e in edits:
        if e[0] in ("modifier", "level"):
            removed.append(m.TitleEdit(text=e[1], kind=e[0]))
        elif e[0] == "expanded":
            alias, repl, kind, src = e[1]
            expanded.append(m.TitleEdit(text=alias, kind=kind, replacement=repl, source=src))
    return removed, expanded


def _lexical_match(conn, idx: Index, title: str, limit: int) -> m.MatchResponse:
    lex = _lexicon(conn, idx)
    parsed = parse_title(title, lex)
    context = set(parsed.context)
    for n, (variant, how, edits) in enumerate(parsed.variants):
        hits = lex.exact.get(variant)
        if not hits:
            continue
        roles: dict[str, list] = {}
        for code, text, kind in hits:
            roles.setdefault(code, []).append((text, kind))

        stems = {_stem(t) for t in variant if t not in _FTS_STOP}
        socs_with_00 = {c[:7] for c in roles if c.endswith(".00")}

        def key(item):
            # context words; the role's own occupation name; the title is that name; a specialisation
            # (.01..) after its parent occupation (.00); incumbents report the title; more of the role's
            # titles equal it; workers per role
            code, titles = item
            return (-len(context & lex.role_words.get(code, set())), -len(stems & lex.role_stems.get(code, set())),
                    not any(k == "occupation" for _t, k in titles), code[:7] in socs_with_00 and not code.endswith(".00"),
                    not any(k == "reported" for _t, k in titles), -len(titles), -lex.prior.get(code, 0.0), code)

        ranked = sorted(roles.items(), key=key)
        method = "exact" if n == 0 else "exact_normalized"
        out = []
        for code, titles in ranked[:limit]:
            titles = sorted(titles, key=lambda x: (KIND_ORDER.get(x[1], 9), x[0]))
            pos = idx.role_pos[code]
            ctx = sorted(context & lex.role_words.get(code, set()))
            out.append(m.RoleMatch(
                role_code=code, role_title=idx.titles[pos], relevance=None, exact=n == 0, all_terms=True,
                method=method, query_coverage=1.0, title_coverage=1.0, context_words=ctx,
                matched_title=titles[0][0], matched_kind=titles[0][1], matching_titles=len(titles),
                titles=[m.TitleHit(title=t, kind=k, relevance=None) for t, k in titles[:3]]))
        if len(out) < limit:
            out += _fts(conn, idx, lex, parsed, limit - len(out), exclude={r.role_code for r in out})
        removed, expanded = _edits(parsed, edits)
        return m.MatchResponse(query=title, title=parsed.title, normalized=" ".join(variant), method=method,
                               variant=how, removed=removed, expanded=expanded, context=parsed.context, matches=out)
    out = _fts(conn, idx, lex, parsed, limit)
    edits = parsed.variants[-1][2] if parsed.variants else []
    core_variant = next((v for v in parsed.variants if list(v[0]) == [t.lower() for t in parsed.core]), None)
    if core_variant is not None:
        edits = core_variant[2]
    removed, expanded = _edits(parsed, edits)
    method = out[0].method if out else "none"
    return m.MatchResponse(query=title, title=parsed.title, normalized=" ".join(t.lower() for t in parsed.core),
                           method=method, variant="full-text search on the cleaned title" if out else None,
                           removed=removed, expanded=expanded, context=parsed.context, matches=out)


def _fts(conn, idx: Index, lex: Lexicon, parsed: ParsedTitle, limit: int, exclude=frozenset()) -> list[m.RoleMatch]:
    """Full-text candidates ranked by head word, query coverage, title coverage, BM25 (terms quoted)."""
    core = [t.lower() for t in parsed.core if t.lower() not in _FTS_STOP] or [t.lower() for t in parsed.core]
    original = [t.lower() for t in parsed.tokens]
    # a concept is a word of the cleaned title; an expanded acronym also counts as its acronym
    concepts: list[set[tuple[str, ...]]] = []
    i = 0
    expansions = {tuple(_sing(e)): a for a, e in lex.alias_words.items()}
    while i < len(core):
        for exp, alias in expansions.items():
            if len(exp) > 1 and tuple(core[i:i + len(exp)]) == exp:
                concepts.append({exp, (alias.lower(),)})
                i += len(exp)
                break
        else:
            concepts.append({(core[i],)})
            i += 1
    if not concepts:
        concepts = [{(t,)} for t in original if t not in _FTS_STOP]
    if not concepts:
        return []
    # the head word: the last word, or the last before "to", "for", "of"... (Executive Assistant to CEO)
    cut = next((k for k, t in enumerate(parsed.core) if t.lower() in _FTS_STOP and k > 0), None)
    head_words = {t.lower() for t in (parsed.core[:cut] if cut else parsed.core)[-1:]}
    head = next((c for c in reversed(concepts) if any(set(alt) & head_words for alt in c)), concepts[-1])

    def quoted(tok: str) -> str:
        return '"' + tok.replace('"', '""') + '"'

    def expr(concept) -> str:
        alts = [" ".join(quoted(t) for t in alt) for alt in sorted(concept)]
        return "(" + " OR ".join(f"({a})" for a in alts) + ")"

    sql = ("select t.role_code, t.title, t.kind, bm25(titles_fts) from titles_fts join titles t on t.title_id = titles_fts.rowid "
           "where titles_fts match ? order by rank limit 400")
    rows = []
    for query in (" AND ".join(expr(c) for c in concepts), " OR ".join(expr(c) for c in concepts)):
        rows += _q(conn, sql, (query,)).fetchall()
        if len({r[0] for r in rows}) >= limit + len(exclude):
            break
    roles: dict[str, dict] = {}
    for code, text, kind, rank in rows:
        if code not in idx.role_pos or code in exclude:
            continue
        main = _PARENS.sub(" ", text)
        words = set(lex.canon(_tokens(main.lower()))) or set(lex.canon(_tokens(text.lower())))
        full = set(lex.canon(_tokens(text.lower())))

        def covered(concept, pool):
            return any(set(alt) <= pool for alt in concept)

        hit = [c for c in concepts if covered(c, full)]
        q_cov = len(hit) / len(concepts)
        used = set().union(*(set(alt) for c in hit for alt in c)) if hit else set()
        t_cov = len(words & used) / len(words) if words else 0.0
        score = (covered(head, full), round(q_cov, 6), round(t_cov, 6), -float(rank))
        e = roles.get(code)
        item = (score, text, kind, q_cov, t_cov, -float(rank))
        if e is None:
            roles[code] = {"best": item, "hits": [item]}
        else:
            e["hits"].append(item)
            if item[0] > e["best"][0]:
                e["best"] = item

    def key(kv):
        code, e = kv
        best = e["best"]
        ctx = len(set(parsed.context) & lex.role_words.get(code, set()))
        return (not best[0][0], -best[0][1], -best[0][2], -ctx, best[2] != "occupation",
                not any(h[2] == "reported" for h in e["hits"]), -lex.prior.get(code, 0.0), not code.endswith(".00"),
                -len(e["hits"]), -best[0][3], code)

    out = []
    for code, e in sorted(roles.items(), key=key)[:limit]:
        score, text, kind, q_cov, t_cov, rel = e["best"]
        hits = sorted({(h[1], h[2]): h for h in e["hits"]}.values(), key=lambda h: h[0], reverse=True)
        pos = idx.role_pos[code]
        out.append(m.RoleMatch(
            role_code=code, role_title=idx.titles[pos], relevance=rel, exact=False, all_terms=q_cov == 1.0,
            method="fts_all_terms" if q_cov == 1.0 else "fts_some_terms", query_coverage=q_cov, title_coverage=t_cov,
            context_words=sorted(set(parsed.context) & lex.role_words.get(code, set())),
            matched_title=text, matched_kind=kind, matching_titles=len(hits),
            titles=[m.TitleHit(title=h[1], kind=h[2], relevance=h[5]) for h in hits[:3]]))
    return out
