"""The data of the pages people read: one function per page section.

Every function takes an open sqlite3 connection to a taskshift database and a key (a role code, a
sector code, a measure id, or nothing) and returns a plain, JSON-ready dict, or None when the
database has no data for that section (the page then leaves the section out). Numbers are returned
at full precision; rounding is the template's job. Results are memoised on the database's `Index`
(the database is immutable), so a page answers from memory after its first request.

The site (`taskshift.site.pages`) maps each function to a template partial; the same dicts are
served as JSON (`/role/{code}.json` etc.), so a chart, a page and a script read the same numbers.
Unknown keys raise `NotFound` naming the field, as everywhere in the service.
"""
from __future__ import annotations

import csv
import json
import re
from functools import cache

import numpy as np
import pandas as pd
import yaml

from taskshift import __version__, scoring
from taskshift.resources import project_metadata, site_files
from taskshift.scoring import HEADLINE_MEASURE
from taskshift.service import models as m
from taskshift.service.errors import InvalidInput, NotFound, ServiceError
from taskshift.service.index import Index, _memo, _q, _rows, index_for

ROLE_CODE = re.compile(r"^\d{2}-\d{4}\.\d{2}$")
#: How many roles, pivots, sectors... a section lists (the JSON and the linked tables have the rest).
TOP_N = 10
PIVOTS_SHOWN = 5
GAPS_SHOWN = 4
HIST_BINS = 20


# --- plain language (api/plain_language.yaml) ----------------------------------------------------
@cache
def plain_language() -> dict:
    return yaml.safe_load(site_files().joinpath("plain_language.yaml").read_text("utf-8")) or {}


def measure_words(measure_id: str, family: str | None, title: str | None = None) -> dict:
    """Plain name, family name and what the family measures (api/plain_language.yaml)."""
    words = plain_language()
    fam = words.get("families", {}).get(family or "", {})
    return {"name": words.get("measures", {}).get(measure_id) or title or measure_id,
            "family_name": fam.get("name") or family or "",
            "what": " ".join(str(fam.get("what", "")).split())}


def family_name(family: str) -> str:
    return plain_language().get("families", {}).get(family, {}).get("name") or family


def _row(conn, sql: str, params=()) -> dict | None:
    cur = _q(conn, sql, params)
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row))


def _table_exists(conn, name: str) -> bool:
    return _q(conn, "select 1 from sqlite_master where type in ('table', 'view') and name = ?", (name,)).fetchone() is not None


def _f(x) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(x) else x


def _i(x) -> int | None:
    x = _f(x)
    return None if x is None else int(round(x))


def _metadata(conn) -> dict:
    idx = index_for(conn)
    return _memo(idx, ("pages", "metadata"), lambda: {r["key"]: r["value"] for r in _rows(conn, "select key, value from metadata")})


def _vintages(conn) -> dict:
    raw = _metadata(conn).get("data_vintages")
    try:
        return json.loads(raw) if raw else dict(project_metadata().get("vintages", {}))
    except ValueError:
        return {}


def _registry(conn) -> dict[str, dict]:
    """Per measure, the registry's judgement the pages show: evidence (predicted: what AI could do;
    observed: what people use AI for) and consensus_role (headline, variant, context), when the
    database has them."""
    idx = index_for(conn)

    def load():
        cols = {r[1] for r in _q(conn, "pragma table_info(measures)")}
        want = [c for c in ("evidence", "consensus_role") if c in cols]
        if not want:
            return {}
        return {r[0]: dict(zip(want, r[1:])) for r in _q(conn, f"select measure_id, {', '.join(want)} from measures")}
    return _memo(idx, ("pages", "registry"), load)


def measure_entry(conn, mid: str) -> dict:
    """A measure as the pages name it: id, registry title, family, scale, plain name, evidence, consensus role."""
    idx = index_for(conn)
    info = idx.minfo.get(mid) or {}
    reg = _registry(conn).get(mid, {})
    return {"measure_id": mid, "title": info.get("title") or mid, "family": info.get("family"),
            "scale": info.get("scale"), "direction": info.get("direction"),
            "evidence": reg.get("evidence"), "consensus_role": reg.get("consensus_role"),
            **measure_words(mid, info.get("family"), info.get("title"))}


def headline(idx: Index) -> str:
    return HEADLINE_MEASURE if HEADLINE_MEASURE in idx.col else idx.scorable[0]


# --- resolving what a URL names -------------------------------------------------------------------
def resolve_role(conn, text: str) -> str:
    """The role code `/role/<text>` names: 15-1252.00, or a code written another way (15125200), or a
    SOC code (15-1252, 151252: its .00 role, or its only role). NotFound otherwise."""
    idx = index_for(conn)
    t = (text or "").strip()
    digits = re.sub(r"\D", "", t)
    if t in idx.role_pos:
        return t
    if len(digits) == 8 and f"{digits[:2]}-{digits[2:6]}.{digits[6:]}" in idx.role_pos:
        return f"{digits[:2]}-{digits[2:6]}.{digits[6:]}"
    if len(digits) == 6:
        soc = f"{digits[:2]}-{digits[2:6]}"
        under = roles_under_soc(conn, soc)
        if f"{soc}.00" in idx.role_pos:
            return f"{soc}.00"
        if len(under) == 1:
            return under[0]["code"]
    raise NotFound("role_code", f"{t!r} is not the O*NET-SOC code of a role (e.g. 15-1252.00)", "not_found")


def roles_under_soc(conn, text: str) -> list[dict]:
    """The roles whose SOC code is the first six digits of `text` (suggestions for a code that is not a role)."""
    idx = index_for(conn)
    digits = re.sub(r"\D", "", text or "")
    if len(digits) < 6:
        return []
    soc = f"{digits[:2]}-{digits[2:6]}"
    under = idx.roles.loc[idx.roles["soc_code"] == soc, ["code", "title"]]
    return [{"code": c, "title": ti} for c, ti in under.itertuples(index=False)]


def resolve_sector(conn, text: str) -> str:
    """The NAICS sector code `/sector/<text>` names: 52, or 31 / 32 / 33 for 31-33."""
    codes = [r[0] for r in _q(conn, "select naics_code from sectors order by naics_code")]
    t = (text or "").strip()
    if t in codes:
        return t
    for code in codes:
        if "-" in code:
            lo, hi = code.split("-")
            if t.isdigit() and lo.isdigit() and int(lo) <= int(t) <= int(hi):
                return code
    raise NotFound("sector_code", f"{t!r} is not a NAICS sector code of the sectors table (e.g. 52)", "not_found")


def resolve_measure(conn, text: str) -> str:
    idx = index_for(conn)
    if text in idx.measures.index:
        return text
    raise NotFound("measure_id", f"unknown measure {text!r} (see the measures table)", "not_found")


# --- role page -------------------------------------------------------------------------------------
def _role(conn, code: str) -> tuple[Index, int]:
    idx = index_for(conn)
    pos = idx.role_pos.get(code)
    if pos is None:
        raise NotFound("role_code", f"unknown role {code!r}", "not_found")
    return idx, pos


def _score(conn, code: str) -> m.ScoreResponse:
    from taskshift.service.scores import score_role
    idx = index_for(conn)
    return _memo(idx, ("pages", "score", code), lambda: score_role(conn, code))


def _groups(conn) -> dict[str, str]:
    idx = index_for(conn)
    return _memo(idx, ("pages", "soc_titles"), lambda: dict(_q(conn, "select code, title from soc_groups").fetchall()))


def role_header(conn, code: str) -> dict:
    """Title, description, SOC groups and job zone of a role."""
    _role(conn, code)
    r = _row(conn, "select code, title, description, soc_code, major_group, minor_group, broad_group, job_zone, "
                   "task_count from roles where code = ?", (code,))
    groups = _groups(conn)
    r["groups"] = [{"code": g, "title": groups.get(g)} for g in (r["major_group"], r["minor_group"], r["broad_group"]) if g]
    r["soc_title"] = groups.get(r["soc_code"])
    return r


def role_labour(conn, code: str) -> dict | None:
    """Employment, wages and projections of a role, with the program and year of each figure and the
    note when the figure belongs to an OEWS code shared with other roles."""
    _role(conn, code)
    r = _row(conn, "select code, title, labor_code, labor_is_aggregate, roles_sharing_labor_code, employment, mean_wage, "
                   "median_wage, wage_flag, employment_change_pct, annual_openings, typical_education, labor_year from roles "
                   "where code = ?", (code,))
    if r is None or all(r[k] is None for k in ("employment", "median_wage", "employment_change_pct")):
        return None
    v = _vintages(conn)
    r["employment_source"] = f"BLS OEWS May {r['labor_year']}" if r.get("labor_year") else v.get("oews", "BLS OEWS")
    r["projection_source"] = v.get("projections", "BLS Employment Projections")
    r["shared_with"] = []
    if r["labor_code"] and (r["roles_sharing_labor_code"] or 1) > 1:
        r["shared_with"] = _rows(conn, "select code, title from roles where labor_code = ? and code != ? order by code",
                                 (r["labor_code"], code))
    r["labor_title"] = _groups(conn).get(r["labor_code"]) if r["labor_code"] else None
    return r


def role_summary(conn, code: str) -> dict:
    """The role in words: the headline measure, the range across every measure, the task profile and outlook."""
    idx, pos = _role(conn, code)
    score = _score(conn, code)
    head = headline(idx)
    scored = [e for e in score.measures if e.percentile is not None]
    fams = {idx.minfo[e.measure_id]["family"] for e in scored}
    lo = min(scored, key=lambda e: (e.percentile, e.measure_id)) if scored else None
    hi = max(scored, key=lambda e: (e.percentile, e.measure_id)) if scored else None
    h = next((e for e in score.measures if e.measure_id == head), None)
    words = lambda e: None if e is None else {**measure_entry(conn, e.measure_id), "percentile": e.percentile, "score": e.score}
    p = score.profile
    return {
        "code": code, "title": idx.titles[pos],
        "consensus": _consensus_dict(conn, score.consensus),
        "headline": words(h) if h and h.percentile is not None else None,
        "measures": len(scored), "families": len(fams),
        "lowest": words(lo), "highest": words(hi),
        "profile": {"labelled_share": p.labelled_share, "exposed_share": p.exposed_share,
                    "automatable_share": p.automatable_share, "augmented_share": p.augmented_share,
                    "employment_change_pct": p.employment_change_pct, "outlook": p.outlook,
                    "outlook_rule": getattr(p, "outlook_rule", None), "outlook_reason": p.outlook_reason,
                    "evidence": [e.model_dump() for e in getattr(p, "evidence", [])]},
        "thresholds": {k: v for k, v in p.thresholds.model_dump().items() if k != "rules"},
    }


def _consensus_dict(conn, c: m.Consensus | None) -> dict | None:
    """A consensus block (taskshift.service.consensus) with the families' plain names."""
    if c is None:
        return None
    d = c.model_dump()
    for v in d["votes"]:
        v.update(family_name=family_name(v["family"]), measure_name=measure_entry(conn, v["measure_id"])["name"])
        v["name"] = v["family_name"]
    for side in ("furthest_above", "furthest_below"):
        d[side + "_name"] = family_name(d[side]) if d.get(side) else None
    d["coarse_family_names"] = [family_name(f) for f in d.get("coarse_families") or []]
    return d


def role_consensus(conn, code: str) -> dict | None:
    """The consensus across families of measures (role_consensus, as the scoring API gives it), with
    each family's vote; None for a database built without a consensus."""
    idx, pos = _role(conn, code)
    d = _consensus_dict(conn, _score(conn, code).consensus)
    if d is None:
        return None
    d.update(code=code, title=idx.titles[pos], min_families=scoring.CONSENSUS_MIN_FAMILIES)
    return d


def role_measures(conn, code: str) -> dict:
    """Every measure's score and percentile for the role, predicted and observed families apart."""
    idx, pos = _role(conn, code)
    score = _score(conn, code)
    rows = []
    for e in score.measures:
        entry = measure_entry(conn, e.measure_id)
        entry.update(score=e.score, percentile=e.percentile, coverage=e.coverage, derivation=e.derivation)
        rows.append(entry)
    if not any(r["percentile"] is not None for r in rows):
        return None
    order = {"predicted": 0, "observed": 1}
    rows.sort(key=lambda r: (order.get(r["evidence"], 2), r["percentile"] is None, -(r["percentile"] or 0), r["measure_id"]))
    return {"code": code, "title": idx.titles[pos], "headline_measure": headline(idx), "measures": rows,
            "scored": sum(r["percentile"] is not None for r in rows)}


def role_use(conn, code: str) -> dict | None:
    """How people actually use AI for this job (observed automation vs augmentation, role_collaboration) beside
    GPT-4's predicted automation, and how much of each measure's weight rests on retired tasks (role_task_changes)."""
    idx, pos = _role(conn, code)
    score = _score(conn, code)
    o = score.observed_use
    lists = [t.model_dump() for t in score.task_lists]
    if o is None and not lists:
        return None
    patterns = []
    if o is not None:
        names = {"directive": "directive (delegated in one go)", "feedback_loop": "feedback loop (AI does it, the person relays errors)",
                 "task_iteration": "task iteration (refined together)", "validation": "validation (AI checks the person's work)",
                 "learning": "learning (the person learns to do it)"}
        patterns = [{"pattern": p, "words": names[p], "mode": scoring.COLLABORATION_PATTERNS[p], "share": v}
                    for p, v in o.patterns.items()]
    uses = {"automation": 0, "augmentation": 0, "none": 0}
    for t in score.tasks:
        uses[t.observed_use] += 1
    return {"code": code, "title": idx.titles[pos], "observed": None if o is None else o.model_dump(),
            "patterns": patterns, "task_uses": uses, "task_lists": lists,
            "automation_min": scoring.OBSERVED_AUTOMATION_MIN}


def _task_usage(conn) -> dict[int, float]:
    idx = index_for(conn)

    def load():
        if not _table_exists(conn, "task_usage"):
            return {}
        # a task may be matched by several Anthropic statements (and a statement by several tasks): a task's
        # observed share is the sum of the shares given to it (share_split); unmatched statements have no task
        return {int(t): float(s) for t, s in _q(
            conn, "select task_id, sum(share_split) from task_usage where task_id is not null and share_split is not null"
                  " group by task_id")}
    return _memo(idx, ("pages", "task_usage"), load)


def role_tasks(conn, code: str) -> dict:
    """The role's O*NET tasks with their GPT-4 exposure and automation labels and observed use."""
    idx, pos = _role(conn, code)
    score = _score(conn, code)
    if not score.tasks:
        return None
    usage = _task_usage(conn)
    labels = plain_language().get("task_labels", {})
    head = headline(idx)
    tasks = []
    weight_by_label: dict[str, float] = {}
    for t in score.tasks:
        label = t.exposure_label or "unlabelled"
        weight_by_label[label] = weight_by_label.get(label, 0.0) + t.share
        tasks.append({"task_id": t.task_id, "statement": t.statement, "task_type": t.task_type, "share": t.share,
                      "exposure_label": t.exposure_label, "exposure_words": labels.get(t.exposure_label or ""),
                      "automation_label": t.automation_label, "automation_words": labels.get(t.automation_label or ""),
                      "exposed": t.exposed, "automatable": t.automatable,
                      "headline_value": t.values.get(head), "observed_share": usage.get(t.task_id),
                      "observed_use": t.observed_use, "observed_automation_share": t.observed_automation_share})
    order = ["E1", "E2", "E0", "unlabelled"]
    mix = [{"label": k, "words": labels.get(k, "no GPT-4 label"), "share": weight_by_label[k]}
           for k in order if k in weight_by_label]
    return {"code": code, "title": idx.titles[pos], "tasks": tasks, "label_mix": mix,
            "observed_tasks": sum(t["observed_share"] is not None for t in tasks),
            "observed_total": sum(t["observed_share"] or 0.0 for t in tasks)}


def role_pivots(conn, code: str) -> dict:
    """Related, less exposed roles to move to (taskshift.service.transitions), with the reskilling gap."""
    from taskshift.service.transitions import transitions
    idx, pos = _role(conn, code)

    def make():
        t = transitions(conn, code, limit=PIVOTS_SHOWN)
        out = t.model_dump()
        for p in out["pivots"]:
            p["missing_dwas"] = p["missing_dwas"][:GAPS_SHOWN]
            p["missing_technologies"] = p["missing_technologies"][:GAPS_SHOWN]
        out["measure"] = measure_entry(conn, t.measure_id)
        return out
    return _memo(idx, ("pages", "pivots", code), make)


def role_sectors(conn, code: str) -> dict | None:
    """Where the role's OEWS code works, by NAICS sector (OEWS May 2024 by sector)."""
    idx, pos = _role(conn, code)
    r = _row(conn, "select labor_code, roles_sharing_labor_code from roles where code = ?", (code,))
    if not r or not r["labor_code"] or not _table_exists(conn, "sector_roles"):
        return None
    rows = _rows(conn, "select s.naics_code, s.title, sr.employment, sr.pct_of_sector from sector_roles sr "
                       "join sectors s on s.naics_code = sr.naics_code where sr.oews_code = ? and sr.o_group = 'detailed' "
                       "order by sr.employment desc nulls last, s.naics_code", (r["labor_code"],))
    total = sum(x["employment"] or 0 for x in rows)
    if not rows or total <= 0:
        return None
    for x in rows:
        x["share_of_role"] = (x["employment"] or 0) / total
    return {"code": code, "labor_code": r["labor_code"], "shared": (r["roles_sharing_labor_code"] or 1) > 1,
            "total": total, "sectors": rows[:TOP_N], "sectors_total": len(rows),
            "source": "BLS OEWS May 2024 by NAICS sector"}


def role_emerging(conn, code: str) -> dict | None:
    """AI-era job titles taskshift places next to this role."""
    _role(conn, code)
    if not _table_exists(conn, "emerging_title_roles"):
        return None
    cols = {r[1] for r in _q(conn, "pragma table_info(emerging_titles)")}
    extra = [c for c in ("evidence_level", "evidence_count", "evidence_note") if c in cols]
    rows = _rows(conn, "select e.title_key, e.title, e.family, e.description, e.source, r.rank, r.reason, "
                       "e.survey_respondents, e.survey_median_salary_usd_2024" + "".join(f", e.{c}" for c in extra) +
                       " from emerging_title_roles r join emerging_titles e on e.title_key = r.title_key "
                       "where r.role_code = ? order by r.rank, e.title", (code,))
    return {"code": code, "titles": rows} if rows else None


def citation(conn, what: str | None = None, path: str | None = None) -> dict:
    """How to cite taskshift (and a page of it)."""
    meta = project_metadata()
    md = _metadata(conn)
    version = md.get("version", __version__)
    date = md.get("build_date", meta["release"].get("data_date", ""))
    year = (date or "")[:4]
    text = (f"taskshift contributors ({year}). {meta['release']['title']}. Version {version}, data of {date}"
            f"{'. ' + what if what else ''}. {meta['release']['homepage']}")
    return {"text": text, "version": version, "date": date, "homepage": meta["release"]["homepage"],
            "attribution": md.get("attribution") or meta["license"]["attribution"], "path": path}


def role_cite(conn, code: str) -> dict:
    """How to cite the role page, the measures on it and the attribution the licenses require."""
    idx, pos = _role(conn, code)
    mids = [mid for mid in idx.scorable if not np.isnan(idx.P[pos, idx.col[mid]])]
    cites = _rows(conn, f"select distinct citation, url from measures where measure_id in ({','.join('?' * len(mids))}) "
                        "order by citation", mids) if mids else []
    out = citation(conn, f"Role {code} {idx.titles[pos]}", f"/role/{code}")
    out["measure_citations"] = cites
    return out


# --- home --------------------------------------------------------------------------------------------
def home_figures(conn) -> dict:
    """The headline figures of the dataset."""
    idx = index_for(conn)

    def make():
        workers = _row(conn, "select sum(e) as n, count(*) as codes from (select labor_code, max(employment) as e from roles "
                             "where labor_code is not null and employment is not null group by labor_code)")
        fams = {idx.minfo[mid]["family"] for mid in idx.scorable}
        md = _metadata(conn)
        return {"roles": len(idx.roles), "tasks": len(idx.task_ids), "measures": len(idx.measures),
                "measures_scored": len(idx.scorable), "families": len(fams),
                "workers": workers["n"], "labor_codes": workers["codes"],
                "sectors": _row(conn, "select count(*) as n from sectors")["n"] if _table_exists(conn, "sectors") else 0,
                "vintages": _vintages(conn), "version": md.get("version", __version__), "build_date": md.get("build_date"),
                "build_kind": md.get("build_kind"), "headline_measure": measure_entry(conn, headline(idx))}
    return _memo(idx, ("pages", "home_figures"), make)


def home_roles(conn) -> dict:
    """Every role: headline percentile against employment, coloured by outlook (the home chart)."""
    idx = index_for(conn)

    def make():
        head = headline(idx)
        j = idx.col[head]
        labour = {r[0]: r[1:] for r in _q(conn, "select code, labor_code, roles_sharing_labor_code from roles")}
        consensus = {}
        if _table_exists(conn, "role_consensus"):
            consensus = {r[0]: r[1:] for r in _q(conn, "select role_code, centre, low, high, label from role_consensus")}
        points = []
        for pos, code in enumerate(idx.codes):
            cons = consensus.get(code)
            pct = (_f(cons[0]) if cons else None) if consensus else _f(idx.P[pos, j])
            emp = _i(idx.roles["employment"].iat[pos])
            labor_code, sharing = labour.get(code, (None, None))
            points.append({"code": code, "title": idx.titles[pos], "percentile": pct,
                           "low": _f(cons[1]) if cons else None, "high": _f(cons[2]) if cons else None,
                           "label": cons[3] if cons else None, "headline_percentile": _f(idx.P[pos, j]),
                           "employment": emp, "shared": (sharing or 1) > 1, "roles_sharing": sharing or 1,
                           "outlook": str(idx.role_arrays["outlook"][pos]), "major_group": str(idx.roles["major_group"].iat[pos])})
        drawn = [p for p in points if p["percentile"] is not None and p["employment"]]
        top = sorted((p for p in drawn if p["percentile"] >= scoring.EXPOSED_PERCENTILE and not p["shared"]),
                     key=lambda p: (-p["employment"], p["code"]))[:TOP_N]
        outlooks = {o: sum(p["outlook"] == o for p in points) for o in scoring.OUTLOOKS}
        return {"basis": "consensus" if consensus else "headline", "measure": measure_entry(conn, head),
                "families": len({idx.minfo[mid]["family"] for mid, r in _registry(conn).items()
                                 if r.get("consensus_role") == "headline" and mid in idx.col}),
                "roles": points, "drawn": len(drawn),
                "exposed_percentile": scoring.EXPOSED_PERCENTILE, "largest_exposed": top, "outlooks": outlooks,
                "employment_source": _vintages(conn).get("oews", "BLS OEWS")}
    return _memo(idx, ("pages", "home_roles"), make)


def home_sectors(conn) -> dict | None:
    """Every NAICS sector on the headline measure: share of workers in highly exposed occupations."""
    return sectors_list(conn)


# --- sectors -------------------------------------------------------------------------------------
def sectors_list(conn) -> dict | None:
    idx = index_for(conn)
    if not _table_exists(conn, "sector_exposure"):
        return None

    def make():
        head = headline(idx)
        cons = _table_exists(conn, "sector_consensus")
        rows = _rows(conn, "select s.naics_code, s.title, s.supersector_title, s.employment, e.score, e.mean_percentile, e.rank, "
                           "e.coverage, e.exposed_employment, e.exposed_share, e.threshold"
                           + (", c.centre as consensus, c.low as consensus_low, c.high as consensus_high, c.label as consensus_label"
                              if cons else "") + " from sectors s "
                           "left join sector_exposure e on e.sector_code = s.naics_code and e.measure_id = ? "
                           + ("left join sector_consensus c on c.sector_code = s.naics_code " if cons else "")
                           + "order by e.exposed_share desc nulls last, s.naics_code", (head,))
        return {"measure": measure_entry(conn, head), "sectors": rows, "exposed_percentile": scoring.EXPOSED_PERCENTILE,
                "source": "BLS OEWS May 2024 by NAICS sector"}
    return _memo(idx, ("pages", "sectors"), make)


def sector_header(conn, code: str) -> dict:
    idx = index_for(conn)
    code = resolve_sector(conn, code)
    r = _row(conn, "select naics_code, title, supersector_code, supersector_title, employment from sectors where naics_code = ?", (code,))
    head = headline(idx)
    h = _row(conn, "select score, mean_percentile, rank, coverage, scored_employment, exposed_employment, exposed_share, threshold, "
                   "n_codes from sector_exposure where sector_code = ? and measure_id = ?", (code, head))
    r["headline"] = h
    r["measure"] = measure_entry(conn, head)
    r["sectors"] = _row(conn, "select count(*) as n from sectors")["n"]
    r["source"] = "BLS OEWS May 2024 by NAICS sector"
    return r


def sector_consensus(conn, code: str) -> dict | None:
    """The sector's consensus (sector_consensus) with each family's vote."""
    code = resolve_sector(conn, code)
    if not _table_exists(conn, "sector_consensus"):
        return None
    r = _row(conn, "select * from sector_consensus where sector_code = ?", (code,))
    if r is None:
        return None
    headlines = {}
    for mid, reg in _registry(conn).items():
        if reg.get("consensus_role") in ("headline", "context"):
            e = measure_entry(conn, mid)
            headlines[e["family"]] = e
    votes = []
    for key, counted in (("family_percentiles", True), ("context_percentiles", False)):
        for fam, pct in sorted(json.loads(r[key] or "{}").items()):
            e = headlines.get(fam, {})
            votes.append({"family": fam, "name": family_name(fam), "family_name": family_name(fam), "measure_id": e.get("measure_id"),
                          "measure_name": e.get("name"), "evidence": e.get("evidence"), "counted": counted, "percentile": pct,
                          "difference": None if r["centre"] is None else pct - r["centre"]})
    r["votes"] = votes
    r["code"] = code
    for side in ("furthest_above", "furthest_below"):
        r[side + "_name"] = family_name(r[side]) if r.get(side) else None
    r["sectors"] = _row(conn, "select count(*) as n from sector_consensus")["n"]
    r["rank"] = _row(conn, "select 1 + count(*) as n from sector_consensus where centre > ?", (r["centre"],))["n"] if r["centre"] is not None else None
    return r


def sector_measures(conn, code: str) -> dict | None:
    idx = index_for(conn)
    code = resolve_sector(conn, code)
    rows = _rows(conn, "select measure_id, score, mean_percentile, rank, coverage, exposed_share, exposed_employment "
                       "from sector_exposure where sector_code = ? order by measure_id", (code,))
    if not rows:
        return None
    for r in rows:
        r.update({k: v for k, v in measure_entry(conn, r["measure_id"]).items() if k != "measure_id"})
    order = {"predicted": 0, "observed": 1}
    rows.sort(key=lambda r: (order.get(r["evidence"], 2), r["mean_percentile"] is None, -(r["mean_percentile"] or 0), r["measure_id"]))
    return {"code": code, "measures": rows, "headline_measure": headline(idx)}


def _code_scores(conn, measure_id: str) -> pd.DataFrame:
    """Per OEWS code: equal-weight mean score and percentile of its roles (scoring.group_mean, the
    sector_exposure method), and the roles under it."""
    idx = index_for(conn)

    def make():
        j = idx.col[measure_id]
        labour = pd.DataFrame(_q(conn, "select code, labor_code from roles order by code").fetchall(), columns=["code", "labor_code"])
        labour["score"] = [idx.R[idx.role_pos[c], j] for c in labour["code"]]
        labour["percentile"] = [idx.P[idx.role_pos[c], j] for c in labour["code"]]
        labour = labour[labour["labor_code"].notna()]
        s = scoring.group_mean(labour["score"], labour["labor_code"])
        p = scoring.group_mean(labour["percentile"], labour["labor_code"])
        roles = labour.groupby("labor_code")["code"].apply(list)
        return pd.DataFrame({"score": s["score"], "percentile": p["score"], "roles": roles.reindex(s.index)})
    return _memo(idx, ("pages", "code_scores", measure_id), make)


def sector_roles(conn, code: str) -> dict | None:
    """The sector's occupations with the most workers in highly exposed work (headline measure)."""
    idx = index_for(conn)
    code = resolve_sector(conn, code)
    head = headline(idx)
    thr = _row(conn, "select threshold from sector_exposure where sector_code = ? and measure_id = ?", (code, head))
    rows = _rows(conn, "select sr.oews_code, sr.employment, sr.pct_of_sector, sr.median_wage from sector_roles sr "
                       "where sr.naics_code = ? and sr.o_group = 'detailed' and sr.employment is not null", (code,))
    if not rows or thr is None:
        return None
    scores = _code_scores(conn, head)
    groups = _groups(conn)
    out = []
    for r in rows:
        if r["oews_code"] not in scores.index:
            continue
        s = scores.loc[r["oews_code"]]
        if np.isnan(s["score"]):
            continue
        out.append({**r, "title": groups.get(r["oews_code"]), "score": float(s["score"]), "percentile": _f(s["percentile"]),
                    "exposed": bool(s["score"] >= thr["threshold"]),
                    "roles": [{"code": c, "title": idx.titles[idx.role_pos[c]]} for c in s["roles"]]})
    exposed = sorted((r for r in out if r["exposed"]), key=lambda r: (-r["employment"], r["oews_code"]))
    largest = sorted(out, key=lambda r: (-r["employment"], r["oews_code"]))
    return {"code": code, "measure": measure_entry(conn, head), "threshold": thr["threshold"],
            "exposed_percentile": scoring.EXPOSED_PERCENTILE, "most_exposed": exposed[:TOP_N + 5],
            "exposed_codes": len(exposed), "largest": largest[:TOP_N], "codes": len(out),
            "source": "BLS OEWS May 2024 by NAICS sector"}


def sector_seeds(conn, code: str) -> dict | None:
    """The seed articles' view of the sector (sector_profiles), beside the data."""
    code = resolve_sector(conn, code)
    if not _table_exists(conn, "sector_profile_sectors"):
        return None
    profiles = _rows(conn, "select p.*, ps.reason as sector_reason from sector_profile_sectors ps "
                           "join sector_profiles p on p.profile_key = ps.profile_key where ps.naics_code = ? order by p.profile_key",
                     (code,))
    if not profiles:
        return None
    for p in profiles:
        p["roles"] = _rows(conn, "select r.side, r.role_code, ro.title, r.seed_phrase, r.percentile, r.mean_percentile_all, "
                                 "r.n_measures from sector_profile_roles r join roles ro on ro.code = r.role_code "
                                 "where r.profile_key = ? order by r.side, r.percentile desc", (p["profile_key"],))
    return {"code": code, "profiles": profiles}


# --- measures ------------------------------------------------------------------------------------
def measures_list(conn) -> dict:
    idx = index_for(conn)

    def make():
        rows = _rows(conn, "select measure_id, family, title, level, roles_covered, roles_crosswalked, license, redistributable "
                           "from measures order by family, measure_id")
        for r in rows:
            r.update({k: v for k, v in measure_entry(conn, r["measure_id"]).items() if k not in ("measure_id", "title", "family")})
            r["role_scores"] = r["measure_id"] in idx.col
        fams = {}
        for r in rows:
            fams.setdefault(r["family"], {"family": r["family"], "family_name": r["family_name"], "evidence": r["evidence"],
                                          "what": r["what"], "measures": []})["measures"].append(r)
        order = {"predicted": 0, "observed": 1}
        head_family = idx.minfo[headline(idx)]["family"]
        return {"families": sorted(fams.values(), key=lambda f: (f["family"] != head_family, order.get(f["evidence"], 2),
                                                                 f["family_name"])),
                "measures": len(rows), "scored": len(idx.scorable), "headline_measure": headline(idx)}
    return _memo(idx, ("pages", "measures"), make)


def measure_header(conn, measure_id: str) -> dict:
    idx = index_for(conn)
    mid = resolve_measure(conn, measure_id)
    r = _row(conn, "select * from measures where measure_id = ?", (mid,))
    r.update({k: v for k, v in measure_entry(conn, mid).items() if k not in r})
    r["role_scores"] = mid in idx.col
    r["is_headline"] = mid == headline(idx)
    r["sources"] = _rows(conn, f"select source_id, publisher, license, license_url, version from sources where source_id in "
                               f"({','.join('?' * len((r.get('source_ids') or '').split(',')))}) order by source_id",
                         [s.strip() for s in (r.get("source_ids") or "").split(",")])
    other = []
    if not r["role_scores"]:
        for table, col in (("task_exposure", "measure_id"), ("industry_exposure", "measure_id"), ("exposure_by_year", "measure_id")):
            if _table_exists(conn, table):
                n = _q(conn, f"select count(*) from {table} where {col} = ?", (mid,)).fetchone()[0]
                if n:
                    other.append({"table": table, "rows": n})
    r["other_tables"] = other
    return r


def measure_distribution(conn, measure_id: str) -> dict | None:
    """Histogram and quantiles of the role scores on the measure's own scale."""
    idx = index_for(conn)
    mid = resolve_measure(conn, measure_id)
    if mid not in idx.col:
        return None
    v = idx.R[:, idx.col[mid]]
    v = v[~np.isnan(v)]
    if not len(v):
        return None
    counts, edges = np.histogram(v, bins=HIST_BINS)
    q = np.quantile(v, [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1])
    return {"measure_id": mid, "roles": int(len(v)), "scale": idx.minfo[mid]["scale"],
            "bins": [{"lo": float(a), "hi": float(b), "roles": int(c)} for a, b, c in zip(edges[:-1], edges[1:], counts)],
            "quantiles": dict(zip(["min", "p10", "p25", "median", "p75", "p90", "max"], map(float, q))),
            "distinct_scores": int(len(np.unique(v)))}


def measure_extremes(conn, measure_id: str) -> dict | None:
    """The most and least exposed roles on the measure."""
    idx = index_for(conn)
    mid = resolve_measure(conn, measure_id)
    if mid not in idx.col:
        return None
    j = idx.col[mid]
    have = [p for p in range(len(idx.codes)) if not np.isnan(idx.R[p, j])]

    def entry(p):
        return {"code": idx.codes[p], "title": idx.titles[p], "score": float(idx.R[p, j]), "percentile": _f(idx.P[p, j]),
                "employment": _i(idx.roles["employment"].iat[p]), "derivation": idx.D[p, j]}
    top = sorted(have, key=lambda p: (-idx.R[p, j], idx.codes[p]))[:TOP_N]
    bottom = sorted(have, key=lambda p: (idx.R[p, j], idx.codes[p]))[:TOP_N]
    return {"measure_id": mid, "top": [entry(p) for p in top], "bottom": [entry(p) for p in bottom], "roles": len(have)}


def measure_agreement(conn, measure_id: str) -> dict | None:
    """Rank correlation (Spearman) of the measure with every other measure over the roles both score."""
    idx = index_for(conn)
    mid = resolve_measure(conn, measure_id)
    if not _table_exists(conn, "measure_correlations"):
        return None
    extra = [c for c in ("top_decile_overlap", "top_quartile_overlap", "top_quartile_kappa")
             if c in {r[1] for r in _q(conn, "pragma table_info(measure_correlations)")}]
    rows = _rows(conn, "select case when measure_a = ? then measure_b else measure_a end as other, spearman, n"
                       + "".join(f", {c}" for c in extra) +
                       " from measure_correlations where measure_a = ? or measure_b = ? order by spearman desc, other",
                 (mid, mid, mid))
    if not rows:
        return None
    for r in rows:
        e = measure_entry(conn, r["other"])
        r.update(name=e["name"], family=e["family"], evidence=e["evidence"], same_family=e["family"] == idx.minfo[mid]["family"])
    others = [r["spearman"] for r in rows if not r["same_family"]]
    return {"measure_id": mid, "pairs": rows,
            "median_other_family": float(np.median(others)) if others else None}


# --- attribution ---------------------------------------------------------------------------------
def attribution(conn) -> dict:
    """Who to credit, from the sources table (the manifest): one line per publisher and license;
    `required` marks the licenses that require attribution (CC BY)."""
    idx = index_for(conn)

    def make():
        rows = _rows(conn, "select publisher, license, license_url, group_concat(source_id, ', ') as sources "
                           "from sources group by publisher, license, license_url order by publisher, license")
        seen: dict[str, dict] = {}
        for r in rows:
            lic = r["license"] or ""
            short = re.split(r"[;(]", lic)[0].strip() or lic
            entry = seen.setdefault(r["publisher"], {"publisher": r["publisher"], "licenses": [], "required": False, "url": r["license_url"]})
            if short not in entry["licenses"]:
                entry["licenses"].append(short)
            entry["required"] |= "CC BY" in lic
        return {"statement": _metadata(conn).get("attribution") or project_metadata()["license"]["attribution"],
                "sources": list(seen.values()),
                "license": project_metadata()["license"]["data"]}
    return _memo(idx, ("pages", "attribution"), make)


# --- workforce form --------------------------------------------------------------------------------
MAX_WORKFORCE_TEXT = 128 * 1024


def parse_workforce(conn, text: str) -> dict:
    """Rows of `role code or job title, headcount` (CSV, tab or semicolon separated; a header row is
    allowed) -> the WorkforceRequest roles, how each line was read, and the lines not used (with why).

    A job title is matched with `match_title` (its best role); the line says which title matched.
    """
    if len(text.encode("utf-8")) > MAX_WORKFORCE_TEXT:
        raise InvalidInput("rows", f"more than {MAX_WORKFORCE_TEXT} bytes", "too_large")
    from taskshift.service.titles import match_title
    idx = index_for(conn)
    lines = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    sample = "\n".join(lines[:5])
    delimiter = "\t" if "\t" in sample else ";" if sample.count(";") > sample.count(",") else ","
    used, skipped = [], []
    for n, cells in enumerate(csv.reader(lines, delimiter=delimiter), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if len(cells) < 2:
            skipped.append({"line": n, "text": delimiter.join(cells), "problem": "needs two columns: a role code or job title, then a headcount"})
            continue
        what, count = delimiter.join(cells[:-1]).strip(), cells[-1].replace(",", "").replace(" ", "")
        if not re.fullmatch(r"\d{1,10}", count):
            problem = f"headcount {cells[-1]!r} is not a whole number"
            if n == 1 and not used and not skipped:
                problem = "header row (skipped)"
            skipped.append({"line": n, "text": delimiter.join(cells), "problem": problem})
            continue
        heads = int(count)
        if heads > 10**9:
            skipped.append({"line": n, "text": delimiter.join(cells), "problem": "headcount above 1,000,000,000"})
            continue
        code = what.split()[0] if what else ""
        if ROLE_CODE.match(code) and code in idx.role_pos:
            used.append({"line": n, "input": what, "role_code": code, "title": idx.titles[idx.role_pos[code]],
                         "headcount": heads, "how": "role code"})
            continue
        if ROLE_CODE.match(code):
            skipped.append({"line": n, "text": what, "problem": f"{code} is not an O*NET-SOC role code"})
            continue
        try:
            match = match_title(conn, what[: m.MAX_TITLE], 1)
        except ServiceError as err:
            skipped.append({"line": n, "text": what, "problem": str(err.errors[0]["problem"])})
            continue
        if not match.matches:
            skipped.append({"line": n, "text": what, "problem": "no role matches this job title"})
            continue
        best = match.matches[0]
        used.append({"line": n, "input": what, "role_code": best.role_code, "title": best.role_title, "headcount": heads,
                     "how": f"title match: {best.matched_title!r} ({best.matched_kind}{', exact' if best.exact else ''})"})
    if len(used) > m.MAX_WORKFORCE_ROLES:
        raise InvalidInput("rows", f"{len(used)} rows; at most {m.MAX_WORKFORCE_ROLES}", "too_many")
    return {"rows": used, "skipped": skipped,
            "request": {"roles": [{"role_code": r["role_code"], "headcount": r["headcount"]} for r in used]}}


def workforce_pivots(conn, codes: list[str]) -> dict[str, list[dict]]:
    """The first pivots of each of `codes` (the most exposed roles of a workforce)."""
    out = {}
    for code in codes:
        data = role_pivots(conn, code)
        out[code] = [{"to_code": p["to_code"], "to_title": p["to_title"], "percentile_delta": p["percentile_delta"],
                      "wage_delta": p["wage_delta"]} for p in data["pivots"][:3]]
    return out


# --- US states (state_* tables; taskshift.service.states) ---------------------------------------------------
def resolve_state(conn, text: str) -> str:
    """The USPS code `/state/<text>` names: DC, dc or the FIPS code 11."""
    from taskshift.service import states as _states

    data = _states._data(conn, index_for(conn), "state_code")
    try:
        return _states.resolve(data, (text or "").strip(), "state_code")
    except InvalidInput as err:
        raise NotFound("state_code", err.errors[0]["problem"], "not_found") from None


def _state(conn, code: str) -> m.StateScoreResponse:
    from taskshift.service.states import score_state
    return score_state(conn, resolve_state(conn, code), top=15)


def state_header(conn, code: str) -> dict:
    r = _state(conn, code)
    d = r.model_dump(exclude={"measures", "consensus", "rules"})
    d["states"] = len(_rows(conn, "select state from states"))
    d["source"] = f"BLS OEWS by state, May {r.state.year}"
    corr = _metadata(conn).get("state_postings_correlation")
    d["correlation"] = json.loads(corr) if corr else None
    return d


def state_consensus(conn, code: str) -> dict | None:
    r = _state(conn, code)
    d = _consensus_dict(conn, r.consensus)
    if d is None:
        return None
    d.update(code=r.state.code, name=r.state.name, rank=r.consensus_rank, states=len(_rows(conn, "select state from states")))
    for side in ("predicted", "observed"):  # the flat names of the consensus tables (the sector partial's)
        d.update({f"{side}_centre": d[side]["centre"], f"{side}_n": d[side]["n_families"]})
    return d


def state_measures(conn, code: str) -> dict | None:
    r = _state(conn, code)
    rows = [x.model_dump() for x in r.measures if x.score is not None]
    for x in rows:
        x.update({k: v for k, v in measure_entry(conn, x["measure_id"]).items() if k != "measure_id"})
    order = {"predicted": 0, "observed": 1}
    rows.sort(key=lambda x: (order.get(x["evidence"], 2), x["mean_percentile"] is None, -(x["mean_percentile"] or 0), x["measure_id"]))
    return {"code": r.state.code, "measures": rows} if rows else None


def state_roles(conn, code: str) -> dict | None:
    r = _state(conn, code)
    if not r.top_roles:
        return None
    return {"code": r.state.code, "name": r.state.name, "year": r.state.year, "roles": [x.model_dump() for x in r.top_roles]}


def states_map(conn) -> dict | None:
    """Every state on the consensus (and its exposed share), for the home page's map and ranking."""
    if not _table_exists(conn, "state_consensus"):
        return None
    from taskshift.service.states import rank_states

    idx = index_for(conn)

    def make():
        ranking = rank_states(conn)
        fips = dict(_q(conn, "select state, fips from states").fetchall())
        post = {s: (a, b) for s, a, b in _q(conn, "select state, postings_change_since_feb2020, postings_change_since_chatgpt from states")}
        rows = [{**x.model_dump(), "fips": fips[x.code], "postings_change_since_feb2020": post[x.code][0],
                 "postings_change_since_chatgpt": post[x.code][1]} for x in ranking.states]
        return {"year": ranking.year, "states": rows, "correlation": ranking.postings_correlation,
                "source": f"BLS OEWS by state, May {ranking.year}"}
    return _memo(idx, ("pages", "states_map"), make)


# --- what is actually happening (issue #12): OEWS over time, and "is exposure showing up?" -----------------
def role_observed(conn, code: str) -> dict | None:
    """Employment and wages of the role's OEWS code May 2019-2025 (the history API's oews section), the observed
    change beside the projection, and the outlook on the evidence with the label GPT-4 alone would give."""
    _role(conn, code)
    if not _table_exists(conn, "oews_series"):
        return None
    from taskshift.service.history import oews
    o = oews(conn, code)
    if o.labor_code is None or not o.years:
        return None
    out = o.model_dump(mode="json")
    out["code"] = code
    out["chart"] = [{"year": y["year"], "employment": y["employment"], "mean_wage": y["mean_wage"]} for y in out["years"]]
    out["outlook"] = _row(conn, "select outlook, rule, reason, predicted_outlook, observed_change_pct, observed_average_pct, "
                                "postings_change_pct, postings_reference_pct from role_outlook where role_code = ?", (code,)) \
        if _table_exists(conn, "role_outlook") else None
    return out


def observed_answer(conn) -> dict | None:
    """The "is exposure showing up?" table: consensus bands (all, predicted, observed families) and the headline
    measures' least and most exposed quintiles, with the caveats."""
    if not _table_exists(conn, "exposure_showing_up"):
        return None
    from taskshift.service.history import OEWS_CAVEATS
    cols = ("grouping, group_id, measure_id, evidence, bin, bin_order, codes, bridged_units, roles, shared_codes, employment_2022, "
            "employment_change_before_pct, employment_change_since_pct, difference_pts, mean_wage_change_before_pct, "
            "mean_wage_change_since_pct, real_mean_wage_change_before_pct, real_mean_wage_change_since_pct, codes_since, "
            "employment_change_since_all_pct")
    bands = _rows(conn, f"select {cols} from exposure_showing_up where grouping in ('consensus', 'predicted', 'observed') "
                        "order by case grouping when 'consensus' then 0 when 'predicted' then 1 else 2 end, bin_order")
    for b in bands:
        b["label"] = f"{b['grouping']}: {b['bin']}"
    headline = _rows(conn, f"select {cols} from exposure_showing_up where grouping = 'measure_quintile' and bin in ('Q1', 'Q5') "
                           "and measure_id in (select measure_id from measures where consensus_role = 'headline') "
                           "order by measure_id, bin_order")
    for r in headline:
        r.update({k: v for k, v in measure_entry(conn, r["measure_id"]).items() if k in ("name", "family_name")})
    chart = [{"label": f"{b['bin']} exposure", "since": b["employment_change_since_pct"],
              "before": b["employment_change_before_pct"]} for b in bands if b["grouping"] == "consensus" and b["bin"] != "all"]
    total = _row(conn, "select employment_change_2019_2022_pct, employment_change_2022_2025_pct, mean_wage_change_2019_2022_pct, "
                       "mean_wage_change_2022_2025_pct from oews_change where code = '00-0000'")
    return {"bands": bands, "headline": headline, "chart": chart, "all_occupations": total, "caveats": list(OEWS_CAVEATS) + [
        "The SOC 2010 -> 2018 break is bridged by group, not code by code: a May 2019-2020 code and the SOC 2018 codes it "
        "holds from 2021 count as one unit (e.g. 15-1256 = software developers and testers); 8 of the 30 groups whose "
        "two ends do not meet stay out (table oews_bridges).", "A band is a set of occupations, not a control group."],
            "measure_rows": _i(_row(conn, "select count(*) n from exposure_showing_up where grouping = 'measure_quintile'")["n"])}
