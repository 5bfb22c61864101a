"""Derive the AI-era titles: `emerging_titles`, `emerging_title_tasks`, `emerging_title_roles`,
`emerging_title_evidence`, `citations`, and add each title (and the names its evidence gives it) to
`titles` as kind `emerging`.

Inputs:
- curated `dataset/curated/emerging_titles.csv` (title, family, description, source),
  `emerging_title_tasks.csv` (what people with the title do, three or four task statements each,
  written from the cited description) and `emerging_title_evidence.csv` (article mentions with the
  quote; exact aijobs.net survey titles). Sources are readable citations ([cite:key] ->
  `citations`). Hypothetical titles an article only proposes (the course-sales blog's "AI-Augmented
  Data Strategist") are not emerging titles;
- the aijobs.net survey (`taskshift.build.ingest.aijobs`): each survey title named in the evidence file
  becomes one evidence row per work year with respondents and median salary;
- O*NET titles and task statements: the nearest roles of a title are justified by tasks, not words:
  every task of the title is compared with every O*NET 30.2 task statement (`scoring.tfidf_cosine`
  over stemmed words), a role's task overlap is the mean over the title's tasks of its best-matching
  task, and the nearest roles are the roles O*NET itself gives the title (or a survey name of it) as
  an alternate, short or reported title, then the roles with the highest task overlap, at least
  MIN_TASK_OVERLAP (a title no role reaches keeps its closest role, flagged weak_task_overlap). Each
  link carries the method, the overlap and the task pairs behind it;
- O*NET Emerging Tasks whose statement matches the AI-related text filter below: attached to each
  emerging title whose nearest roles include the task's role, else listed with no title.

Each title's evidence level: survey (aijobs.net respondents, with the count), official (O*NET lists the
title; count = roles listing it) or anecdotal (named only in articles, no count).
Title ids of the new `titles` rows follow the O*NET ones, in (title_key, name, role rank) order.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.build import curated
from taskshift.scoring import HEADLINE_MEASURE

CURATED_SOURCE = "dataset/curated/emerging_titles.csv"
EVIDENCE_SOURCE = "dataset/curated/emerging_title_evidence.csv"
SURVEY_SOURCE = "aijobs_salaries"
SURVEY_YEAR = 2024  # latest full work year of the survey snapshot (2025 is partial)
#: AI-related text in an O*NET Emerging Task statement: explicit AI terms, and (weaker) automation,
#: autonomy and robotics. `match` says which list matched.
AI_TERMS = re.compile(r"\b(artificial intelligence|AI|machine learning|deep learning|neural networks?|large language models?|"
                      r"LLMs?|generative|chatbots?|algorithms?|predictive models?)\b", re.IGNORECASE)
AI_TERMS_CASED = re.compile(r"\bAI\b")
AUTOMATION_TERMS = re.compile(r"\b(autonomous|automated|automation|automate|robotic|robots?)\b", re.IGNORECASE)
KIND_ORDER = {"article": 0, "aijobs": 1, "onet_emerging_task": 2}
#: Nearest roles by task overlap: at most this many, each with a task overlap (mean best cosine
#: similarity of the title's tasks with the role's O*NET tasks) of at least MIN_TASK_OVERLAP.
NEAREST_ROLES = 3
MIN_TASK_OVERLAP = 0.22
#: A title task counts as matched by a role's task at this cosine similarity or more.
MIN_TASK_SIMILARITY = 0.3
#: Words naming the technology, left out of the comparison (O*NET 30.2 tasks rarely name it).
TECHNOLOGY_WORDS = frozenset({"ai", "artificial", "intelligence", "generative"})
ROLES_SOURCE = ("taskshift: task overlap of the title's tasks (dataset/curated/emerging_title_tasks.csv) with "
                "O*NET 30.2 task statements (TF-IDF cosine, scoring.tfidf_cosine); O*NET 30.2 titles")
_STOP = frozenset("""a an and are as at be by for from has have in into is it its of on or that the their them these this
those to with within such other using use used uses e g etc including include includes all any each more new""".split())
_SUFFIXES = ("ational", "ization", "ations", "ation", "ments", "ment", "ings", "ing", "ions", "ion", "ies", "ied",
             "ers", "er", "ed", "es", "e", "s", "ly")


def _problem(problems: list[str]) -> None:
    if problems:
        from taskshift.build.assemble import BuildError
        raise BuildError(problems)


def ai_match(statement: str) -> str | None:
    """'ai' if the statement names AI explicitly, 'automation' for automation/autonomy/robotics, else None."""
    for m in AI_TERMS.finditer(statement):
        if m.group(0).lower() != "ai" or AI_TERMS_CASED.search(m.group(0)):
            return "ai"
    return "automation" if AUTOMATION_TERMS.search(statement) else None


def ai_emerging_tasks(emerging: pd.DataFrame) -> pd.DataFrame:
    out = emerging.assign(match=emerging["statement"].map(ai_match))
    return out[out["match"].notna()].reset_index(drop=True)


def evidence(titles: pd.DataFrame, roles_near: pd.DataFrame, curated_ev: pd.DataFrame,
             survey: pd.DataFrame | None, tasks: pd.DataFrame, onet_roles: pd.DataFrame) -> pd.DataFrame:
    problems = []
    rows = []
    known = set(titles["title_key"])
    survey_years: dict[str, list] = {}  # survey job title -> its rows (one per work year), in file order
    for y in ([] if survey is None else survey.itertuples(index=False)):
        survey_years.setdefault(y.job_title, []).append(y)
    for line, r in curated_ev.iterrows():
        if r["title_key"] not in known:
            problems.append(f"dataset/curated/emerging_title_evidence.csv: row {line}: unknown title_key {r['title_key']!r}")
            continue
        if r["kind"] == "article":
            rows.append({"title_key": r["title_key"], "kind": "article", "name": r["name"], "detail": r["detail"],
                         "source": r["source"]})
        elif r["kind"] == "aijobs":
            if survey is None:
                continue  # survey not read in this build
            years = survey_years.get(r["name"], [])
            if not years:
                problems.append(f"dataset/curated/emerging_title_evidence.csv: row {line}: {r['name']!r} is not a job title of the aijobs.net survey")
            for y in years:
                rows.append({"title_key": r["title_key"], "kind": "aijobs", "name": r["name"], "detail": None,
                             "work_year": y.work_year, "respondents": y.respondents,
                             "median_salary_usd": y.median_salary_usd, "source": r["source"]})
        else:
            problems.append(f"dataset/curated/emerging_title_evidence.csv: row {line}: kind must be article or aijobs "
                            f"(O*NET emerging tasks are found by the build), not {r['kind']!r}")
    _problem(problems)
    role_title = onet_roles.set_index("code")["title"]
    near = roles_near.groupby("role_code")["title_key"].agg(sorted)
    for t in tasks.itertuples(index=False):
        keys = near.get(t.role_code) or [None]
        for key in keys:
            rows.append({"title_key": key, "kind": "onet_emerging_task", "name": role_title.get(t.role_code),
                         "detail": t.statement, "role_code": t.role_code, "emerging_task_id": t.emerging_task_id,
                         "match": t.match, "source": f"onet_emerging_tasks (O*NET 30.2 Emerging Tasks, {t.date}); "
                                                      f"AI-related text filter: {t.match} terms"})
    out = pd.DataFrame(rows, columns=["title_key", "kind", "name", "detail", "work_year", "respondents",
                                      "median_salary_usd", "role_code", "emerging_task_id", "match", "source"])
    out["_k"] = out["kind"].map(KIND_ORDER)
    out = out.sort_values(["_k", "title_key", "name", "work_year", "emerging_task_id"], kind="stable",
                          na_position="last", ignore_index=True).drop(columns="_k")
    out.insert(0, "evidence_id", range(1, len(out) + 1))
    for col in ("work_year", "respondents", "emerging_task_id"):
        out[col] = out[col].astype("Int64")
    return out


def title_rows(titles: pd.DataFrame, roles_near: pd.DataFrame, ev: pd.DataFrame, start: int) -> pd.DataFrame:
    """Each emerging title and each name its article / survey evidence gives it, pointing at every nearest role."""
    names = pd.concat([
        titles[["title_key", "title"]].assign(source_id=CURATED_SOURCE, order=0),
        ev.loc[ev["kind"] == "article", ["title_key", "name"]].rename(columns={"name": "title"}).assign(source_id=EVIDENCE_SOURCE, order=1),
        ev.loc[ev["kind"] == "aijobs", ["title_key", "name"]].rename(columns={"name": "title"}).assign(source_id=SURVEY_SOURCE, order=2),
    ], ignore_index=True)
    names["title"] = names["title"].str.strip()
    names["folded"] = names["title"].str.casefold()
    names = names.sort_values(["title_key", "order", "folded"], kind="stable").drop_duplicates(["title_key", "folded"])
    out = names.merge(roles_near[["title_key", "role_code", "rank"]], on="title_key")
    out = out.sort_values(["title_key", "order", "folded", "rank"], kind="stable").drop_duplicates(["role_code", "folded"])
    out = out.assign(kind="emerging").reset_index(drop=True)
    out.insert(0, "title_id", range(start, start + len(out)))
    return out[["title_id", "role_code", "title", "kind", "source_id"]]


def stem_words(text: str) -> list[str]:
    """Lower-case words without common English words, with a light suffix stripping (annotate ~ annotation)."""
    out = []
    for w in _WORDS.findall(str(text).lower()):
        stem = _STEMS.get(w)
        if stem is None:
            stem = _STEMS[w] = _stem(w)
        if stem:
            out.append(stem)
    return out


_WORDS = re.compile(r"[a-z]+")
_STEMS: dict[str, str] = {}  # word -> stem ("" for a word left out): a pure function of the word, memoised


def _stem(w: str) -> str:
    if w in _STOP or len(w) < 2:
        return ""
    for suf in _SUFFIXES:
        if len(w) > 4 and w.endswith(suf) and len(w) - len(suf) >= 3:
            return w[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
    return w


def technology_free(text: str) -> list[str]:
    return [w for w in stem_words(text) if w not in TECHNOLOGY_WORDS]


_TOKENS = re.compile(r"[a-z0-9]+")


def _fold(text: str) -> str:
    return " ".join(_TOKENS.findall(str(text).lower()))


def official_titles(titles: pd.DataFrame) -> pd.DataFrame:
    """The O*NET titles (`titles` rows not of kind emerging) with `folded`, the title as `_fold` gives it
    (each distinct title folded once)."""
    onet = titles[titles["kind"] != "emerging"]
    titles = onet["title"].tolist()
    folded = {t: _fold(t) for t in set(titles)}
    return onet.assign(folded=[folded.get(t) for t in titles])


def nearest_roles(titles: pd.DataFrame, title_tasks: pd.DataFrame, onet_tasks: pd.DataFrame,
                  onet_roles: pd.DataFrame, official: pd.DataFrame, names: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The nearest O*NET roles of each emerging title, with the task pairs that justify them.

    task_overlap of a role = sqrt(document similarity x task coverage): the TF-IDF cosine of the
    title's tasks (together) with the role's description and tasks (together), and the mean over the
    title's tasks of the best cosine with one of the role's tasks. Both must be high: the first alone
    follows vocabulary, the second alone one generic verb ("monitor", "record"). Words naming the
    technology (AI, artificial intelligence, generative) are left out, O*NET tasks do not use them.

    A title with no O*NET title and no role above MIN_TASK_OVERLAP keeps its closest role, with method
    weak_task_overlap (O*NET has no occupation for that work).

    `official`: the O*NET titles with their folded form (`official_titles`).

    Returns (roles, tasks): roles has title_key, role_code, rank, method (onet_title | task_overlap | weak_task_overlap),
    task_overlap, matched_tasks, onet_title, reason, source; tasks is the curated task list with its
    best-matching O*NET task overall.
    """
    docs = onet_tasks.sort_values("task_id").reset_index(drop=True)
    terms = [technology_free(t) for t in docs["statement"]]
    terms_of = dict(zip(docs["statement"], terms))
    title_tasks = title_tasks.reset_index(drop=True).copy()
    sims = scoring.tfidf_cosine([technology_free(t) for t in title_tasks["task"]], terms)
    best = sims.argmax(axis=1)
    title_tasks["best_task_id"] = docs["task_id"].to_numpy()[best].astype("int64")
    title_tasks["best_role_code"] = docs["role_code"].to_numpy()[best]
    title_tasks["similarity"] = sims[np.arange(len(best)), best]
    title_tasks["task_no"] = title_tasks.groupby("title_key").cumcount() + 1
    info = onet_roles.set_index("code")
    codes = np.array(sorted(docs["role_code"].unique()))
    role_index = {c: i for i, c in enumerate(codes)}
    ri = docs["role_code"].map(role_index).to_numpy()
    # technology_free of "description statement statement ...": words never run across the spaces, so
    # the words of the description followed by each statement's (already computed) words
    by_role = docs.groupby("role_code")["statement"].agg(list)
    role_docs = [technology_free(str(info.at[c, "description"])) + [w for st in by_role[c] for w in terms_of[st]]
                 for c in codes]
    per_role = np.zeros((len(title_tasks), len(codes)))
    arg = np.zeros((len(title_tasks), len(codes)), dtype="int64")
    for k in range(len(title_tasks)):
        order = np.lexsort((-sims[k], ri))          # by role, best task first
        first = np.r_[0, np.flatnonzero(np.diff(ri[order])) + 1]
        per_role[k, ri[order[first]]] = sims[k, order[first]]
        arg[k, ri[order[first]]] = order[first]
    # the O*NET titles named like some emerging title: each title's own search below runs on these few
    onet = official[official["folded"].isin({_fold(n) for n in names["name"]})]
    rows = []
    groups = list(title_tasks.groupby("title_key", sort=True))
    # one query per title (its tasks together) against the role documents, all titles in one call
    documents = scoring.tfidf_cosine([technology_free(" ".join(group["task"])) for _, group in groups], role_docs)
    for (key, group), document in zip(groups, documents):
        idx = group.index.to_numpy()
        coverage = per_role[idx].mean(axis=0)
        overlap = np.sqrt(coverage * document)
        wanted = {_fold(n) for n in names.loc[names["title_key"] == key, "name"]}
        listed = onet[onet["folded"].isin(wanted)].groupby("role_code")["title"].first()
        chosen = sorted(listed.index, key=lambda c: (-overlap[role_index[c]] if c in role_index else 0.0, c))
        for j in np.argsort(-overlap, kind="stable"):
            if len(chosen) >= max(NEAREST_ROLES, len(listed)) or overlap[j] < MIN_TASK_OVERLAP:
                break
            if codes[j] not in chosen:
                chosen.append(codes[j])
        weak = not chosen  # no O*NET title and no role above the threshold: keep the closest, flagged
        if weak:
            chosen = [codes[int(np.argmax(overlap))]]
        for rank, code in enumerate(chosen[:5], start=1):
            j = role_index.get(code)
            ov = float(overlap[j]) if j is not None else 0.0
            pairs = []
            if j is not None:
                pairs = sorted(((per_role[k, j], title_tasks.at[k, "task"], docs.at[int(arg[k, j]), "statement"])
                                for k in idx if per_role[k, j] > 0), key=lambda x: -x[0])
            matched = sum(1 for p_ in pairs if p_[0] >= MIN_TASK_SIMILARITY)
            evidence = "; ".join(f"'{a}' ~ '{b}' ({sim:.2f})" for sim, a, b in pairs[:2])
            head = (f"task overlap {ov:.2f} (document {document[j]:.2f}, tasks {coverage[j]:.2f}; {matched} of {len(idx)} "
                    f"tasks >= {MIN_TASK_SIMILARITY:g})" if j is not None else "no O*NET tasks")
            if code in listed.index:
                method, reason = "onet_title", f"O*NET lists '{listed[code]}' as a title of this role; {head}"
            elif weak:
                method, reason = "weak_task_overlap", (
                    f"no O*NET occupation's tasks cover this work well: the closest, below the {MIN_TASK_OVERLAP:g} "
                    f"threshold; {head}")
            else:
                method, reason = "task_overlap", head
            rows.append({"title_key": key, "role_code": code, "rank": rank, "method": method, "task_overlap": ov,
                         "matched_tasks": matched, "onet_title": listed.get(code),
                         "reason": reason + (f": {evidence}" if evidence else ""), "source": ROLES_SOURCE})
    out = pd.DataFrame(rows)
    tasks_out = title_tasks[["title_key", "task_no", "task", "source", "best_task_id", "best_role_code", "similarity"]]
    return out, tasks_out


def evidence_level(titles: pd.DataFrame, ev: pd.DataFrame, official: pd.DataFrame) -> pd.DataFrame:
    """survey (aijobs.net respondents > 0), official (O*NET lists the title or a survey name of it), else anecdotal.
    `official`: the O*NET titles with their folded form (`official_titles`)."""
    named = {_fold(n) for n in titles["title"]} | {_fold(n) for n in ev.loc[ev["kind"] == "aijobs", "name"]}
    onet = official[official["folded"].isin(named)]  # each title's own search below runs on these few
    out = []
    for t in titles.itertuples(index=False):
        names = {_fold(t.title)} | {_fold(n) for n in ev.loc[(ev["title_key"] == t.title_key)
                                                             & ev["kind"].isin(["aijobs"]), "name"]}
        roles = onet.loc[onet["folded"].isin(names), "role_code"].nunique()
        if t.survey_respondents > 0:
            out.append(("survey", int(t.survey_respondents),
                        f"{t.survey_respondents} aijobs.net survey respondents, {t.survey_titles} job titles, from {t.survey_first_year}"))
        elif roles:
            out.append(("official", int(roles), f"O*NET 30.2 lists the title for {roles} roles"))
        else:
            out.append(("anecdotal", None, f"named in {t.article_mentions} article passage(s) only; no survey or official count"))
    return pd.DataFrame(out, columns=["evidence_level", "evidence_count", "evidence_note"])


def derive(ctx) -> None:
    titles = curated.read("emerging_titles")
    title_tasks = curated.read("emerging_title_tasks")
    curated_ev = curated.read("emerging_title_evidence")
    keys = set(titles["title_key"])
    _problem([f"dataset/curated/emerging_title_tasks.csv: row {i}: unknown title_key {k!r}"
              for i, k in title_tasks["title_key"].items() if k not in keys]
             + [f"dataset/curated/emerging_titles.csv: title {k!r} has no task in emerging_title_tasks.csv"
                for k in sorted(keys - set(title_tasks["title_key"]))])
    survey = ctx.frames.get("aijobs_title_years")
    responses = ctx.frames.pop("aijobs_responses", None)
    # O*NET title evidence: the title itself (not the survey titles pooled under it: "Computer Vision
    # Engineer" is pooled under Machine Learning Engineer, but O*NET files it under hardware engineers)
    names = titles[["title_key", "title"]].rename(columns={"title": "name"})
    official = official_titles(ctx.frames["titles"])
    near, task_table = nearest_roles(titles, title_tasks, ctx.frames["tasks"], ctx.frames["roles"], official, names)
    _problem([f"emerging title {k!r}: no O*NET title and no role with a task overlap >= {MIN_TASK_OVERLAP:g} "
              "(describe its tasks in dataset/curated/emerging_title_tasks.csv)" for k in sorted(keys - set(near["title_key"]))])
    tasks = ai_emerging_tasks(ctx.frames["emerging_tasks"])
    ev = evidence(titles, near, curated_ev, survey, tasks, ctx.frames["roles"])

    exposure = ctx.frames.get("role_exposure", pd.DataFrame(columns=["role_code", "measure_id", "score", "percentile"]))
    head = exposure[exposure["measure_id"] == HEADLINE_MEASURE].set_index("role_code")
    near = near.reset_index(drop=True)
    near["measure_id"] = HEADLINE_MEASURE
    near["score"] = near["role_code"].map(head["score"])
    near["percentile"] = near["role_code"].map(head["percentile"])

    titles = titles.reset_index(drop=True)
    first = near.sort_values(["title_key", "rank"]).drop_duplicates("title_key").set_index("title_key")["role_code"]
    titles["nearest_role_code"] = titles["title_key"].map(first)
    titles["n_roles"] = titles["title_key"].map(near.groupby("title_key").size()).astype(int)
    titles["measure_id"] = HEADLINE_MEASURE
    titles["roles_percentile"] = titles["title_key"].map(near.groupby("title_key")["percentile"].mean())
    titles["article_mentions"] = titles["title_key"].map(ev[ev["kind"] == "article"].groupby("title_key").size()).fillna(0).astype(int)
    survey_ev = ev[ev["kind"] == "aijobs"]
    titles["survey_titles"] = titles["title_key"].map(survey_ev.groupby("title_key")["name"].nunique()).fillna(0).astype(int)
    titles["survey_respondents"] = titles["title_key"].map(survey_ev.groupby("title_key")["respondents"].sum()).fillna(0).astype(int)
    titles["survey_first_year"] = titles["title_key"].map(survey_ev.groupby("title_key")["work_year"].min()).astype("Int64")
    if responses is not None and len(survey_ev):
        names = survey_ev[["title_key", "name"]].drop_duplicates()
        pooled = (responses[responses["work_year"] == SURVEY_YEAR]
                  .merge(names, left_on="job_title", right_on="name")
                  .groupby("title_key"))
        titles[f"survey_respondents_{SURVEY_YEAR}"] = titles["title_key"].map(pooled.size()).fillna(0).astype(int)
        titles[f"survey_median_salary_usd_{SURVEY_YEAR}"] = titles["title_key"].map(pooled["salary_in_usd"].median())
    else:
        titles[f"survey_respondents_{SURVEY_YEAR}"] = 0
        titles[f"survey_median_salary_usd_{SURVEY_YEAR}"] = None
    titles["onet_emerging_tasks"] = titles["title_key"].map(
        ev[ev["kind"] == "onet_emerging_task"].groupby("title_key").size()).fillna(0).astype(int)
    level = evidence_level(titles, ev, official)
    titles["evidence_level"] = level["evidence_level"].to_numpy()
    titles["evidence_count"] = pd.array(level["evidence_count"].to_numpy(), dtype="Int64")
    titles["evidence_note"] = level["evidence_note"].to_numpy()

    ctx.frames["citations"] = curated.read("citations").reset_index(drop=True)
    ctx.frames["emerging_title_tasks"] = task_table
    ctx.frames["emerging_titles"] = titles
    ctx.frames["emerging_title_roles"] = near
    ctx.frames["emerging_title_evidence"] = ev
    existing = ctx.frames["titles"]
    ctx.frames["titles"] = pd.concat([existing, title_rows(titles, near, ev, int(existing["title_id"].max()) + 1)],
                                     ignore_index=True)
    counts = tasks["match"].value_counts()
    ctx.note("emerging_tasks_ai_filter", {
        "ai_terms": AI_TERMS.pattern, "automation_terms": AUTOMATION_TERMS.pattern,
        "emerging_tasks": int(len(ctx.frames["emerging_tasks"])),
        "matched_ai": int(counts.get("ai", 0)), "matched_automation": int(counts.get("automation", 0)),
        "matched_ids": [int(i) for i in tasks["emerging_task_id"]],
    }, "O*NET Emerging Tasks matched by the AI-related text filter (emerging_title_evidence, kind onet_emerging_task)")
