"""Derive the postings view of each role: Indeed's 47 categories -> SOC groups and roles -> changes.

Inputs:
- curated `dataset/curated/indeed_category_map.csv`: one row per (Indeed category, SOC 2018 code at
  any level, or an O*NET-SOC role code), with a weight where a code is split between categories, and
  how the row was decided: `example_title_match` (Indeed's example title for the category, run through
  the taskshift title matcher, `taskshift match TITLE --limit 10`, proposed a role the code covers;
  the matcher's answer is in `matched_roles`) or `manual_review` (decided from SOC titles and
  definitions against the category's name and examples), a confidence and a reviewer note. A row
  with no category records that no published category contains the code (military, farming, ...);
- `postings_by_category` and `indeed_category_examples` from `taskshift.build.ingest.indeed`;
- `roles` and `soc_groups`.

A role takes the rows of the MOST SPECIFIC code that covers it (role code, then its detailed SOC code,
broad, minor, major group), so a group row is a default and a more specific row an exception. Weights
of one code's rows sum to 1. Role numbers are the weighted mean of its categories' numbers
(`taskshift.scoring.weighted_mean`, over categories with a series); changes use
`taskshift.scoring.index_change_pct`: since February 2020 against Indeed's baseline (1 Feb 2020 = 100),
since ChatGPT against the mean of November 2022; both to the mean of the last complete month of the
by-category file (an older vintage, to 2024-09-27: see `taskshift.build.ingest.indeed`).

Outputs: `indeed_category_map`, `indeed_categories`, `role_posting_categories`, `role_postings`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.build import curated

CURATED = "indeed_category_map"
WHERE = f"dataset/curated/{CURATED}.csv"
#: Levels of a map code, most specific first; a role takes the rows of the first level present.
LEVELS = ("role", "detailed", "broad", "minor", "major")
ROLE_COLUMN = {"role": "code", "detailed": "soc_code", "broad": "broad_group", "minor": "minor_group", "major": "major_group"}
CONFIDENCE = ("high", "medium", "low")
WEIGHT_TOLERANCE = 1e-9


def _fail(problems: list[str]) -> None:
    if problems:
        from taskshift.build.assemble import BuildError
        raise BuildError(problems)


def check_map(cmap: pd.DataFrame, examples: pd.DataFrame, roles: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """The curated rows with `map_id`, `level` and `code_title`; BuildError naming every bad CSV line."""
    problems = []
    known = dict(zip(examples["category"], examples["example_titles"].str.split(" | ", regex=False)))
    group_level = groups.set_index("code")["level"]
    group_title = groups.set_index("code")["title"]
    role_title = roles.set_index("code")["title"]
    levels, titles = [], []
    for line, r in cmap.iterrows():
        at = f"{WHERE}: row {line}"
        code = r["code"]
        if "." in code:
            levels.append("role" if code in role_title.index else None)
            titles.append(role_title.get(code))
        else:
            levels.append(group_level.get(code))
            titles.append(group_title.get(code))
        if levels[-1] is None:
            problems.append(f"{at}: code {code!r} is neither a SOC 2018 code of soc_groups nor a role code of roles")
        cat = r["category"]
        given = [t.strip() for t in r["example_titles"].split("|")] if isinstance(r["example_titles"], str) else []
        if cat is not None and not pd.isna(cat) and cat not in known:
            problems.append(f"{at}: category {cat!r} is not an Indeed category of indeed_sector_job_title_examples")
        if r["method"] == "example_title_match":
            if not given or not isinstance(r["matched_roles"], str):
                problems.append(f"{at}: method example_title_match needs example_titles and matched_roles (the matcher's answer)")
            wrong = [t for t in given if cat in known and t not in known[cat]]
            if wrong:
                problems.append(f"{at}: {wrong} are not example titles of {cat!r} (they are {known.get(cat)})")
        elif given or isinstance(r["matched_roles"], str):
            problems.append(f"{at}: method {r['method']} has example_titles or matched_roles; use example_title_match")
        if (cat is None or pd.isna(cat)) and (r["method"] != "manual_review" or r["weight"] != 1):
            problems.append(f"{at}: a row with no category must be manual_review with weight 1")
    out = cmap.assign(level=levels, code_title=titles)
    sums = out.groupby("code")["weight"].sum()
    for code, total in sums.items():
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            lines = list(out.index[out["code"] == code])
            problems.append(f"{WHERE}: rows {lines}: weights of code {code} sum to {total:g}, not 1")
    nocat = out[out["category"].isna()]
    mixed = nocat[nocat["code"].isin(out.loc[out["category"].notna(), "code"])]
    problems += [f"{WHERE}: row {i}: code {c} has a row with no category and rows with a category" for i, c in mixed["code"].items()]
    missing = sorted(set(known) - set(out["category"].dropna()))
    problems += [f"{WHERE}: Indeed category {c!r} has no row" for c in missing]
    _fail(problems)
    out = out.reset_index(drop=True)
    out.insert(0, "map_id", range(1, len(out) + 1))
    return out


def expand(cmap: pd.DataFrame, roles: pd.DataFrame) -> pd.DataFrame:
    """(role, map row) for every role: the rows of the most specific code covering the role."""
    keyed = []
    for rank, level in enumerate(LEVELS):
        keyed.append(pd.DataFrame({"role_code": roles["code"], "code": roles[ROLE_COLUMN[level]], "rank": rank}))
    keyed = pd.concat(keyed, ignore_index=True).dropna()
    hits = keyed.merge(cmap, on="code")
    best = hits.groupby("role_code")["rank"].transform("min")
    return hits[hits["rank"] == best].drop(columns="rank").sort_values(["role_code", "map_id"], ignore_index=True)


def category_numbers(monthly: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Per category: index in November 2022 and in the last complete month, the last daily value,
    and the changes; and that last complete month."""
    end_month = monthly.loc[monthly["complete"] == 1, "month"].max()
    by = monthly.set_index(["category", "month"])
    cats = monthly.groupby("category").agg(first_month=("month", "min"), last_date=("last_date", "max"))
    last = monthly.sort_values("month").groupby("category").tail(1).set_index("category")
    cats["index_last"] = last["index_last"]
    cats["index_nov2022"] = [by["index_mean"].get((c, scoring.CHATGPT_MONTH), np.nan) for c in cats.index]
    cats["end_month"] = end_month
    cats["index_end"] = [by["index_mean"].get((c, end_month), np.nan) for c in cats.index]
    cats["change_since_feb2020_pct"] = scoring.index_change_pct(cats["index_end"], scoring.POSTINGS_BASE_INDEX)
    cats["change_since_nov2022_pct"] = scoring.index_change_pct(cats["index_end"], cats["index_nov2022"])
    return cats, end_month


def role_numbers(roles: pd.DataFrame, links: pd.DataFrame, cats: pd.DataFrame, end_month: str) -> pd.DataFrame:
    """One row per role: status, categories with weights, evidence summary and the weighted changes."""
    linked = links[links["category"].notna()].copy()
    linked["has_series"] = linked["category"].isin(cats.index).astype(int)
    for col in ("index_nov2022", "index_end", "index_last"):
        linked[col] = linked["category"].map(cats[col])
    out = pd.DataFrame({"role_code": roles["code"].to_numpy()})
    nocat = set(links.loc[links["category"].isna(), "role_code"])
    ordered = linked.sort_values(["role_code", "weight", "category"], ascending=[True, False, True])
    label = ordered["category"].where(ordered["weight"] == 1, ordered["category"] + " (" + ordered["weight"].map("{:g}".format) + ")")
    by_role = label.groupby(ordered["role_code"])
    out["categories"] = out["role_code"].map(by_role.agg("; ".join))
    out["n_categories"] = out["role_code"].map(by_role.size()).fillna(0).astype(int)
    firsts = links.drop_duplicates(["role_code", "code"])
    out["via_codes"] = out["role_code"].map(firsts.groupby("role_code")["code"].agg("; ".join))
    methods = links.drop_duplicates(["role_code", "method"]).groupby("role_code")["method"]
    out["method"] = out["role_code"].map(methods.first().where(methods.size() == 1, "mixed"))
    rank = links["confidence"].map(CONFIDENCE.index)
    out["confidence"] = out["role_code"].map(rank.groupby(links["role_code"]).max().map(dict(enumerate(CONFIDENCE))))
    notes = links.drop_duplicates(["role_code", "note"]).groupby("role_code")["note"].agg(" / ".join)
    out["note"] = out["role_code"].map(notes)
    for col in ("index_nov2022", "index_end", "index_last"):
        out[col] = out["role_code"].map(scoring.weighted_mean(linked[col], linked["weight"], linked["role_code"])["score"])
    with_series = linked.assign(w=linked["weight"] * linked["has_series"]).groupby("role_code")["w"].sum()
    out["weight_with_series"] = out["role_code"].map(with_series)
    out["end_month"] = np.where(out["index_end"].notna(), end_month, None)
    out["last_date"] = np.where(out["index_last"].notna(), cats["last_date"].max(), None)
    out["change_since_feb2020_pct"] = scoring.index_change_pct(out["index_end"], scoring.POSTINGS_BASE_INDEX)
    out["change_since_nov2022_pct"] = scoring.index_change_pct(out["index_end"], out["index_nov2022"])
    status = np.select(
        [out["index_end"].notna(), out["n_categories"] > 0, out["role_code"].isin(nocat)],
        ["mapped", "no_series", "no_category"], "not_reviewed")
    out.insert(1, "status", status)
    out.loc[out["status"] == "not_reviewed", "note"] = f"no row of {WHERE} covers this role (nor its SOC groups)"
    return out


def derive(ctx) -> None:
    examples = ctx.frames.pop("indeed_category_examples")
    roles = ctx.frames["roles"]
    cmap = check_map(curated.read(CURATED), examples, roles, ctx.frames["soc_groups"])
    links = expand(cmap, roles)
    cats, end_month = category_numbers(ctx.frames["postings_by_category"])
    per_role = role_numbers(roles, links, cats, end_month)

    counted = links[links["category"].notna()]
    cmap["roles"] = cmap["map_id"].map(links.groupby("map_id").size()).fillna(0).astype(int)
    categories = examples.set_index("category").join(cats)
    categories["has_series"] = categories.index.isin(cats.index).astype(int)
    categories["map_rows"] = categories.index.map(cmap.groupby("category").size()).fillna(0).astype(int)
    categories["roles"] = categories.index.map(counted.groupby("category").size()).fillna(0).astype(int)
    categories = categories.reset_index()

    rpc = counted.rename(columns={"code": "via_code", "level": "via_level"})
    rpc["has_series"] = rpc["category"].isin(cats.index).astype(int)
    ctx.frames["indeed_category_map"] = cmap
    ctx.frames["indeed_categories"] = categories
    ctx.frames["role_posting_categories"] = rpc[["role_code", "category", "weight", "map_id", "via_code", "via_level",
                                                 "method", "confidence", "has_series"]]
    ctx.frames["role_postings"] = per_role

    status = per_role["status"].value_counts()
    ctx.note("indeed_category_map_summary", {
        "rows": int(len(cmap)),
        "rows_by_method": {k: int(v) for k, v in cmap["method"].value_counts().items()},
        "rows_by_confidence": {k: int(v) for k, v in cmap["confidence"].value_counts().items()},
        "rows_without_category": int(cmap["category"].isna().sum()),
        "categories": int(len(categories)), "categories_with_series": int(categories["has_series"].sum()),
        "roles_by_status": {k: int(v) for k, v in status.items()},
        "roles_in_two_or_more_categories": int((per_role["n_categories"] > 1).sum()),
        "end_month": end_month, "chatgpt_month": scoring.CHATGPT_MONTH,
    }, f"Indeed category -> SOC map ({WHERE}): rows by method and confidence, roles by status (role_postings)")
