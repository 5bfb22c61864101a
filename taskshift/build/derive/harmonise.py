"""Put every measure on the roles: `native_scores` (any code system) -> `role_exposure`.

The crosswalk rules live here and only here (they are also written to the `metadata` table, key
`crosswalk_rules`, and every `role_exposure` row carries its native codes, their weights and the
basis of the weights):

- `onetsoc2019` scores are native: the score of role X is the score published for X.
- `soc2018` scores are broadcast to every O*NET-SOC role under the SOC 2018 detailed code.
- `oews` scores (BLS OEWS occupation codes) are expanded to the SOC 2018 codes each OEWS code
  covers (`oews_codes`: an aggregate such as 13-1020 reaches all of its detailed codes), then broadcast.
- `onetsoc2010` scores go through the O*NET-SOC 2010 -> 2019 crosswalk: the role's O*NET-SOC 2010
  predecessors.
- `soc2010` scores take the most detailed path the codes allow: the SOC 2010 codes of the role's own
  O*NET-SOC 2010 predecessors (O*NET-SOC 2010 -> 2019 crosswalk; 15-1299.08 Computer Systems
  Engineers/Architects comes from 15-1199.02 alone, so from SOC 2010 15-1199 alone). Only where
  none of those codes has a score, the BLS SOC 2010 -> 2018 crosswalk of the role's SOC code, where
  an "All Other" SOC 2010 code is left out when a specific code also feeds the SOC 2018 code (unless
  the SOC 2018 code is itself an "All Other" residual), and leaving out a code O*NET folded into the
  SOC code's base role alone (43-9011 Computer Operators went to 15-1299.00 only, so Penetration
  Testers, a role added under 15-1299 in 2019, comes from 15-1199 alone).
- `isco08` scores reach SOC 2010 codes through the BLS ISCO-08 <-> SOC 2010 crosswalk, then the
  roles as `soc2010` scores do. Two refinements of the BLS links:
  * a 3-digit ISCO match (the file has two: 211, 315) stands for every 4-digit unit group under it;
  * the BLS file marks a link "part" whenever a code is matched to several, so "part" cannot tell a
    good link from a bad one. The ILO publishes each unit group's tasks, O*NET each role's: a link
    is left out where the unit group's tasks fit the role's O*NET tasks less than `ISCO_FIT_MIN` (a
    quarter) as well as the best-fitting linked group (fit = cosine of TF-IDF word vectors of the two
    task lists, `scoring.tfidf_cosine`). Chief Executives (11-1011) are linked to 1112 Senior
    government officials (fit 0.26), 1113 Traditional chiefs and heads of villages (0.05) and 1120
    Managing directors and chief executives (0.28): 1113 is left out. Roles without O*NET tasks
    keep every link (no evidence either way). `weight_basis` names what was left out.

Weights, where several codes feed one role (`native_weights`, basis in `weight_basis`):
- across SOC 2010 codes (soc2010, onetsoc2010 via their SOC 2010 code, isco08 via the SOC 2010 codes
  they link to): by their OEWS May 2019 employment (`oews_history`: the last year before OEWS moved
  to SOC 2018; SOC 2010 codes the 2018 SOC kept carry the figure under the same number). Where one of
  them has no May 2019 figure (a code the 2018 SOC changed), equal weights, and the basis says so;
- within one SOC 2010 code (several O*NET-SOC 2010 codes, or several ISCO groups): equal weights
  (no employment is published below the SOC code).
A native code without a score drops out and the others' weights are rescaled. Employment weights
(OEWS May 2025) are used when scores are aggregated *up* from roles (sectors, workforces).

Scores equal up to float noise are stored as one value (`scoring.snap_ties`: within one part in a
billion), so equal published scores reached through different arithmetic have equal percentiles; `employment_percentile`
ranks the role among US workers (OEWS May 2025 employment of its labour code, split evenly over the
roles sharing the code, so a shared code counts once).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from taskshift import scoring

ALL_OTHER = "All Other"
#: An ISCO-08 link is left out where its unit group's ILO tasks fit the role's O*NET tasks less than this
#: fraction as well as the best-fitting linked group (see the module docstring).
ISCO_FIT_MIN = 0.25
EMPLOYMENT_YEAR = 2019

RULES = {
    "native": "published for this O*NET-SOC 2019 code",
    "broadcast": "published for the SOC 2018 (or OEWS) code of the role and copied to each O*NET-SOC role under it",
    "crosswalk_onetsoc2010": "published for O*NET-SOC 2010 codes: the role's predecessors in the O*NET-SOC 2010->2019 crosswalk",
    "crosswalk_soc2010_onetsoc": "published for SOC 2010 codes: the SOC 2010 codes of the role's O*NET-SOC 2010 predecessors (the most detailed path)",
    "crosswalk_soc2010": "published for SOC 2010 codes: BLS SOC 2010->2018 crosswalk of the role's SOC code (used only where no predecessor's "
                         "SOC 2010 code has a score); an 'All Other' SOC 2010 code is left out where a specific one also feeds the SOC 2018 code",
    "crosswalk_isco08_onetsoc": "published for ISCO-08 unit groups: BLS ISCO-08->SOC 2010 links (3-digit matches expanded, "
                                "task-fit rule), then the SOC 2010 codes of the role's O*NET-SOC 2010 predecessors",
    "crosswalk_isco08": "published for ISCO-08 unit groups: BLS ISCO-08->SOC 2010 links (3-digit matches expanded, task-fit rule), "
                        "then the BLS SOC 2010->2018 crosswalk of the role's SOC code",
    "isco_task_fit": "an ISCO-08 link is left out where the unit group's ILO tasks fit the role's O*NET tasks (TF-IDF cosine) less than "
                     f"{ISCO_FIT_MIN:g} x as well as the best-fitting linked group; roles without O*NET tasks keep every link",
    "isco_3_digit": "a 3-digit ISCO-08 match stands for each 4-digit unit group under it, equally weighted",
    "weights": "across SOC 2010 codes: OEWS May 2019 employment (equal where a code has no May 2019 figure, and weight_basis says so); "
               "within one SOC 2010 code (several O*NET-SOC 2010 codes or ISCO groups): equal; codes without a score drop out",
    "percentile": f"rank among the roles with the measure, ties averaged; scores equal up to float noise (relative difference <= "
                  f"{scoring.TIE_RELATIVE:g}) are one score, stored as one value",
    "employment_percentile": "share of US workers (OEWS May 2025, each labour code's employment split evenly over its roles) in roles "
                             "with a lower score, plus half of those with an equal score",
}
DERIVATIONS = ("native", "broadcast", "crosswalk_onetsoc2010", "crosswalk_soc2010_onetsoc", "crosswalk_soc2010",
               "crosswalk_isco08_onetsoc", "crosswalk_isco08")


@dataclass
class Crosswalks:
    """The code links every measure shares, prepared once per build."""
    roles: pd.DataFrame          # code, soc_code
    pred: pd.DataFrame           # role_code, onetsoc2010, soc2010: O*NET-SOC 2010 predecessors
    soc10: pd.DataFrame          # soc2010, soc2018 (BLS, 'All Other' rule applied)
    isco: pd.DataFrame           # isco08, soc2010, kind ('4-digit' / '3-digit expanded'), matched_as
    oews: pd.DataFrame           # oews_code, soc_code
    employment: pd.Series        # SOC 2010 code -> OEWS May 2019 employment


def _pairs(crosswalks: pd.DataFrame, frm: str, to: str) -> pd.DataFrame:
    cw = crosswalks[(crosswalks["from_system"] == frm) & (crosswalks["to_system"] == to)]
    return cw[["from_code", "from_title", "to_code", "to_title"]].drop_duplicates(["from_code", "to_code"])


def soc2010_links(crosswalks: pd.DataFrame) -> pd.DataFrame:
    """BLS SOC 2010 -> 2018 pairs without 'All Other' residuals diluting a specific code.

    For a SOC 2018 code fed by both specific SOC 2010 codes and an 'All Other' one, the 'All Other'
    link is dropped, unless the SOC 2018 code is itself an 'All Other' residual (15-1299 Computer
    Occupations, All Other is 15-1199's natural heir)."""
    p = _pairs(crosswalks, "soc2010", "soc2018")
    residual = p["from_title"].str.contains(ALL_OTHER, regex=False)
    target_residual = p["to_title"].str.contains(ALL_OTHER, regex=False)
    has_specific = (~residual).groupby(p["to_code"]).transform("any")
    keep = ~residual | target_residual | ~has_specific
    return p.loc[keep, ["from_code", "to_code"]].rename(columns={"from_code": "soc2010", "to_code": "soc2018"})


def isco_links(crosswalks: pd.DataFrame, isco_codes) -> pd.DataFrame:
    """ISCO-08 -> SOC 2010 links, 3-digit matches expanded to the 4-digit unit groups under them.
    `isco_codes`: the 4-digit unit groups known (from the scores; the crosswalk's own are added)."""
    p = _pairs(crosswalks, "isco08", "soc2010").rename(columns={"from_code": "isco08", "to_code": "soc2010"})
    known = sorted({c for c in isco_codes if len(c) == 4} | {c for c in p["isco08"] if len(c) == 4})
    rows = []
    for r in p.itertuples(index=False):
        if len(r.isco08) == 4:
            rows.append((r.isco08, r.soc2010, "4-digit", r.isco08))
        else:
            children = [c for c in known if c.startswith(r.isco08)]
            rows += [(c, r.soc2010, "3-digit expanded", r.isco08) for c in children]
    links = pd.DataFrame(rows, columns=["isco08", "soc2010", "kind", "matched_as"]).drop_duplicates(["isco08", "soc2010"])
    return links.sort_values(["soc2010", "isco08"], ignore_index=True)


class TaskFit:
    """How well an ISCO-08 unit group's ILO tasks fit an O*NET role's tasks: cosine of TF-IDF word vectors
    of the two task lists (`scoring.tfidf_cosine`; documents = every role's and every unit group's task
    list, words = `scoring.content_tokens`); NaN where either side has no task statement. Computed once
    per build, for every (unit group, role) pair."""

    def __init__(self, role_tasks: pd.DataFrame | None, isco_tasks: pd.DataFrame | None):
        self.matrix = np.zeros((0, 0))
        self.role_col: dict[str, int] = {}
        self.isco_row: dict[str, int] = {}
        if role_tasks is None or isco_tasks is None:
            return
        roles = [(code, [w for t in texts for w in scoring.content_tokens(t)])
                 for code, texts in role_tasks.groupby("role_code", sort=True)["statement"]]
        iscos = [(code, [w for t in texts for w in scoring.content_tokens(t)])
                 for code, texts in isco_tasks.dropna(subset=["statement"]).groupby("isco08_code", sort=True)["statement"]]
        corpus = [words for _, words in roles] + [words for _, words in iscos]
        self.matrix = scoring.tfidf_cosine([words for _, words in iscos], corpus)[:, :len(roles)]
        self.role_col = {code: j for j, (code, _) in enumerate(roles)}
        self.isco_row = {code: i for i, (code, _) in enumerate(iscos)}

    def to_frame(self) -> pd.DataFrame:
        """The fits as a frame (unit groups x roles): handed to the ISCO-08 step, so they are computed once per build."""
        return pd.DataFrame(self.matrix, index=list(self.isco_row), columns=list(self.role_col))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "TaskFit":
        fit = cls(None, None)
        fit.matrix = frame.to_numpy(dtype="float64")
        fit.isco_row = {c: i for i, c in enumerate(frame.index)}
        fit.role_col = {c: j for j, c in enumerate(frame.columns)}
        return fit

    def __call__(self, links: pd.DataFrame) -> pd.Series:
        out = [self.matrix[self.isco_row[i], self.role_col[r]] if r in self.role_col and i in self.isco_row else np.nan
               for r, i in zip(links["role_code"], links["link_code"])]
        return pd.Series(out, index=links.index, dtype="float64")


def prune_by_fit(links: pd.DataFrame, fit: pd.Series) -> tuple[pd.DataFrame, dict[str, str]]:
    """Leave out links whose fit < ISCO_FIT_MIN x the role's best fit (roles where every link has a
    fit); returns the kept links and, per role, what was left out."""
    ratio = fit / fit.groupby(links["role_code"]).transform("max")
    judged = fit.notna().groupby(links["role_code"]).transform("all") & (fit.groupby(links["role_code"]).transform("max") > 0)
    drop = judged & (ratio < ISCO_FIT_MIN)
    notes = {}
    for role, g in links[drop].assign(ratio=ratio[drop]).groupby("role_code", sort=False):
        notes[role] = "left out by task fit: " + ", ".join(f"{c} ({x:.2f} of best)" for c, x in zip(g["link_code"], g["ratio"]))
    return links[~drop], notes


def prepare(roles: pd.DataFrame, crosswalks: pd.DataFrame, oews_codes: pd.DataFrame,
            oews_history: pd.DataFrame | None, isco_codes=()) -> Crosswalks:
    pred = _pairs(crosswalks, "onetsoc2010", "onetsoc2019").rename(columns={"from_code": "onetsoc2010", "to_code": "role_code"})
    pred = pred[pred["role_code"].isin(roles["code"])][["role_code", "onetsoc2010"]]
    pred["soc2010"] = pred["onetsoc2010"].str[:7]
    employment = pd.Series(dtype="float64")
    if oews_history is not None and len(oews_history):
        y = oews_history[(oews_history["year"] == EMPLOYMENT_YEAR) & (oews_history["o_group"] == "detailed")]
        employment = pd.Series(pd.to_numeric(y["employment"]).to_numpy(dtype="float64"), index=y["code"]).dropna()
    return Crosswalks(
        roles=roles[["code", "soc_code"]], pred=pred.sort_values(["role_code", "onetsoc2010"], ignore_index=True),
        soc10=soc2010_links(crosswalks), isco=isco_links(crosswalks, isco_codes),
        oews=oews_codes[["oews_code", "soc_code"]], employment=employment)


# --- links of one code system: (role_code, link_code, unit) -------------------------------------
def candidate_links(system: str, xw: Crosswalks) -> dict[str, pd.DataFrame]:
    """Candidate routes for a code system, most detailed first: {derivation: frame(role_code, link_code, unit)}.

    `link_code` is a code of the system (before aliases); `unit` is the code employment weights are
    taken for (a SOC 2010 code), or the link code itself where there is one per role."""
    roles = xw.roles.rename(columns={"code": "role_code"})
    if system == "onetsoc2019":
        f = pd.DataFrame({"role_code": roles["role_code"], "link_code": roles["role_code"]})
        return {"native": f.assign(unit=f["link_code"])}
    if system == "soc2018":
        f = pd.DataFrame({"role_code": roles["role_code"], "link_code": roles["soc_code"]})
        return {"broadcast": f.assign(unit=f["link_code"])}
    if system == "oews":
        f = xw.oews.merge(roles, on="soc_code")[["role_code", "oews_code"]].rename(columns={"oews_code": "link_code"})
        return {"broadcast": f.assign(unit=f["link_code"])}
    if system == "onetsoc2010":
        f = xw.pred.rename(columns={"onetsoc2010": "link_code", "soc2010": "unit"})
        return {"crosswalk_onetsoc2010": f[["role_code", "link_code", "unit"]]}
    onet = xw.pred[["role_code", "soc2010"]].drop_duplicates()
    bls = folded_left_out(xw.soc10.merge(roles, left_on="soc2018", right_on="soc_code")[["role_code", "soc_code", "soc2010"]]
                          .drop_duplicates(), xw.pred)
    if system == "soc2010":
        return {"crosswalk_soc2010_onetsoc": onet.assign(link_code=onet["soc2010"]).rename(columns={"soc2010": "unit"}),
                "crosswalk_soc2010": bls.assign(link_code=bls["soc2010"]).rename(columns={"soc2010": "unit"})}
    if system == "isco08":
        isco = xw.isco[["isco08", "soc2010"]]
        out = {}
        for name, frame in (("crosswalk_isco08_onetsoc", onet), ("crosswalk_isco08", bls)):
            f = frame.merge(isco, on="soc2010").rename(columns={"isco08": "link_code", "soc2010": "unit"})
            out[name] = f[["role_code", "link_code", "unit"]]
        return out
    raise ValueError(f"unknown code system {system!r}")


def folded_left_out(bls: pd.DataFrame, pred: pd.DataFrame) -> pd.DataFrame:
    """BLS SOC 2010 -> role links without codes O*NET folded into another role's base occupation.

    A SOC 2010 code whose O*NET-SOC 2010 occupations all went to the base role (xx-xxxx.00) of the
    SOC 2018 code is accounted for by that role: it does not feed the SOC code's other roles, where
    another SOC 2010 code does (43-9011 Computer Operators went to 15-1299.00 alone, so the roles
    O*NET added under 15-1299 in 2019, Penetration Testers ..., come from 15-1199 alone)."""
    went = pred.assign(soc_code=pred["role_code"].str[:7]).groupby(["soc2010", "soc_code"])["role_code"].agg(set)
    base_only = {k for k, v in went.items() if all(r.endswith(".00") for r in v)}
    key = list(zip(bls["soc2010"], bls["soc_code"]))
    folded = pd.Series([k in base_only for k in key], index=bls.index) & ~bls["role_code"].str.endswith(".00")
    others = (~folded).groupby(bls["role_code"]).transform("any")
    return bls.loc[~(folded & others), ["role_code", "soc2010"]]


def weigh(links: pd.DataFrame, employment: pd.Series, weighted_units: bool) -> pd.DataFrame:
    """Weights per (role, link): units by employment (equal if any unit of the role lacks it), links
    equal within a unit. Adds `weight` and the role's `weight_basis`."""
    links = links.copy()
    units = links[["role_code", "unit"]].drop_duplicates()
    units["emp"] = units["unit"].map(employment) if weighted_units else np.nan
    n_units = units.groupby("role_code")["unit"].transform("size")
    complete = units["emp"].notna().groupby(units["role_code"]).transform("all")
    by_emp = complete & (n_units > 1) & weighted_units
    emp_total = units["emp"].where(by_emp).groupby(units["role_code"]).transform("sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        units["unit_weight"] = np.where(by_emp & (emp_total > 0), units["emp"] / emp_total, 1.0 / n_units)
    lacking = units[units["emp"].isna() & (n_units > 1)]
    missing = lacking.groupby("role_code")["unit"].agg(",".join) if len(lacking) else pd.Series(dtype=object)
    links = links.merge(units[["role_code", "unit", "unit_weight"]], on=["role_code", "unit"])
    n_in_unit = links.groupby(["role_code", "unit"])["link_code"].transform("size")
    links["weight"] = links["unit_weight"] / n_in_unit
    per_role = pd.DataFrame({"n": n_units.groupby(units["role_code"]).first(),
                             "by_emp": by_emp.groupby(units["role_code"]).all()})
    one = "one SOC 2010 code" if weighted_units else "one code"
    per_role["basis"] = np.where(per_role["n"] == 1, one,
                                 np.where(per_role["by_emp"], f"OEWS May {EMPLOYMENT_YEAR} employment of SOC 2010 codes",
                                          "equal" if not weighted_units else ""))
    need = per_role["basis"] == ""
    per_role.loc[need, "basis"] = [f"equal: no OEWS May {EMPLOYMENT_YEAR} employment for SOC 2010 {missing.get(r, '')}"
                                   for r in per_role.index[need]]
    within = (n_in_unit > 1).groupby(links["role_code"]).any()
    per_role["basis"] = per_role["basis"] + np.where(within.reindex(per_role.index, fill_value=False),
                                                     "; equal within a SOC 2010 code", "")
    links["weight_basis"] = links["role_code"].map(per_role["basis"])
    return links


def routed_links(system: str, xw: Crosswalks, codes, fit: TaskFit | None = None,
                 candidates: dict[str, pd.DataFrame] | None = None) -> list[tuple[str, pd.DataFrame]]:
    """The weighed links (role_code, unit, link_code, weight, weight_basis) from the roles to the codes
    `codes` of a code system, per derivation, most detailed first: each role takes the first derivation
    that reaches one of the codes. ISCO-08 links go through the task-fit rule (`prune_by_fit`) when `fit`
    is given. Used for every measure (`codes`: the codes with a score) and for the ISCO-08 tables
    (`codes`: every unit group of the crosswalk, taskshift.build.derive.isco). `candidates`: the
    `candidate_links(system, xw)` already made (they depend only on the code system)."""
    codes = set(codes)
    done: set[str] = set()
    out = []
    for derivation, links in (candidates if candidates is not None else candidate_links(system, xw)).items():
        links = links[~links["role_code"].isin(done) & links["link_code"].isin(codes)]
        if links.empty:
            continue
        weighted_units = system in ("soc2010", "onetsoc2010", "isco08")
        notes: dict[str, str] = {}
        if system == "isco08" and fit is not None:
            pairs = links.drop_duplicates(["role_code", "link_code"])
            kept, notes = prune_by_fit(pairs, fit(pairs))
            links = links.merge(kept[["role_code", "link_code"]], on=["role_code", "link_code"])
        links = weigh(links.drop_duplicates(["role_code", "unit", "link_code"]), xw.employment, weighted_units)
        if notes:
            links["weight_basis"] = links["weight_basis"] + links["role_code"].map(notes).map(
                lambda n: "" if pd.isna(n) else "; " + n)
        out.append((derivation, links))
        done |= set(links["role_code"])
    return out


def role_exposure(native: pd.DataFrame, roles: pd.DataFrame, crosswalks: pd.DataFrame,
                  oews_codes: pd.DataFrame, aliases: pd.DataFrame | None = None,
                  oews_history: pd.DataFrame | None = None, role_tasks: pd.DataFrame | None = None,
                  isco_tasks: pd.DataFrame | None = None, fit: TaskFit | None = None) -> pd.DataFrame:
    """`aliases` (code_system, native_code, member_code): published codes that are not codes of their
    system (an aggregate, a retired code) and the codes they stand for; the rest link as they are."""
    if aliases is None:
        aliases = pd.DataFrame(columns=["code_system", "native_code", "member_code"])
    isco_codes = native.loc[native["code_system"] == "isco08", "native_code"].unique()
    xw = prepare(roles, crosswalks, oews_codes, oews_history, isco_codes)
    if fit is None and len(isco_codes):
        fit = TaskFit(role_tasks, isco_tasks)
    frames = []
    candidates: dict[str, dict[str, pd.DataFrame]] = {}  # per code system: the same for every measure
    routes: dict[tuple, list] = {}  # per code system and set of scored codes: the same for every measure with them
    for (measure_id, system), scores in native.groupby(["measure_id", "code_system"], sort=True):
        if system not in candidates:
            candidates[system] = candidate_links(system, xw)
        members = aliases.loc[aliases["code_system"] == system, ["native_code", "member_code"]]
        scores = scores.dropna(subset=["score"]).merge(members, on="native_code", how="left")
        scores["link_code"] = scores["member_code"].fillna(scores["native_code"])
        scored = scores[["link_code", "native_code", "score", "coverage"]].drop_duplicates(["link_code", "native_code"])
        key = (system, frozenset(scored["link_code"]))
        if key not in routes:
            routes[key] = routed_links(system, xw, scored["link_code"], fit, candidates[system])
        for derivation, links in routes[key]:
            joined = links.merge(scored, on="link_code")
            # `part`: this (measure, code system, derivation) in loop order; summarised in one pass below
            frames.append(joined.assign(part=len(frames), measure_id=measure_id, native_system=system,
                                        derivation=derivation))
    joined = pd.concat(frames, ignore_index=True)
    # a link code standing for several published codes shares its weight among them
    shared = joined.groupby(["part", "role_code", "unit", "link_code"])["native_code"].transform("size")
    joined["weight"] = joined["weight"] / shared
    joined.loc[shared > 1, "weight_basis"] += "; equal over published codes standing for one code"
    per_native = (joined.groupby(["part", "role_code", "native_code"], sort=True)
                  .agg(weight=("weight", "sum"), score=("score", "first"), coverage=("coverage", "first"),
                       weight_basis=("weight_basis", "first"), measure_id=("measure_id", "first"),
                       native_system=("native_system", "first"), derivation=("derivation", "first"))
                  .reset_index())
    result = summarise(per_native)
    result["score"] = scoring.snap_ties(result["score"], result["measure_id"])
    result["percentile"] = scoring.percentile_rank(result["score"], result["measure_id"])
    columns = ["role_code", "measure_id", "score", "percentile", "coverage", "derivation",
               "native_system", "native_codes", "native_weights", "n_native", "weight_basis"]
    return result[columns].sort_values(["measure_id", "role_code"], ignore_index=True)


def summarise(per_native: pd.DataFrame) -> pd.DataFrame:
    """One row per (part, role) from its (native_code, weight, score) rows; a part is one measure's
    derivation (columns measure_id, native_system, derivation), rows ordered by part, then role."""
    per_native = per_native.sort_values(["part", "role_code", "native_code"], ignore_index=True)
    per_native["coverage"] = pd.to_numeric(per_native["coverage"]).astype("float64")  # None -> NaN: a numeric mean
    # one integer per (part, role), increasing in that order
    key = per_native.groupby(["part", "role_code"], sort=True).ngroup()
    n = key.map(key.value_counts())
    per_native["w"] = per_native["weight"] / per_native["weight"].groupby(key).transform("sum")
    score = scoring.weighted_mean(per_native["score"], per_native["w"], key)["score"]
    coverage = scoring.weighted_mean(per_native["coverage"], per_native["w"], key)["score"]
    first = per_native.assign(key=key).drop_duplicates("key").set_index("key")
    out = pd.DataFrame({"role_code": first["role_code"], "score": score, "coverage": coverage,
                        "native_codes": first["native_code"], "native_weights": "1", "n_native": key.value_counts(),
                        "weight_basis": first["weight_basis"], "derivation": first["derivation"],
                        "measure_id": first["measure_id"], "native_system": first["native_system"]})
    multi = per_native[n > 1]
    if len(multi):
        g = multi.assign(wtext=[f"{x:.4g}" for x in multi["w"]]).groupby(key[n > 1], sort=True)
        out.loc[g.groups.keys(), "native_codes"] = g["native_code"].agg(",".join)
        out.loc[g.groups.keys(), "native_weights"] = g["wtext"].agg(",".join)
    out = out.reset_index(drop=True)
    one = out["n_native"] == 1
    out.loc[one, "weight_basis"] = "one native code"
    out.loc[~one & out["derivation"].isin(["native", "broadcast"]), "weight_basis"] = "equal"
    return out


def employment_percentiles(exposure: pd.DataFrame, roles: pd.DataFrame) -> pd.Series:
    """Employment-weighted percentile of each role_exposure row (aligned with `exposure`).

    Each role weighs its labour code's OEWS May 2025 employment / roles_sharing_labor_code (a shared
    code counts once); roles without published employment weigh 0 (they still get a percentile)."""
    share = (pd.to_numeric(roles["employment"]) / pd.to_numeric(roles["roles_sharing_labor_code"])).astype("float64")
    weights = exposure["role_code"].map(pd.Series(share.to_numpy(), index=roles["code"]))
    return pd.Series(scoring.employment_percentile(exposure["score"], weights, exposure["measure_id"]), index=exposure.index)


def correlations(exposure: pd.DataFrame) -> pd.DataFrame:
    """Spearman rank correlation between every pair of measures, over the roles both cover."""
    wide = exposure.pivot(index="role_code", columns="measure_id", values="score")
    ids = sorted(wide.columns)
    values = {m: wide[m].to_numpy(dtype="float64") for m in ids}
    present = {m: ~np.isnan(v) for m, v in values.items()}
    rows = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            both = present[a] & present[b]  # the roles both measures cover, in role order
            n = int(both.sum())
            rows.append({"measure_a": a, "measure_b": b, "n": n,
                         "spearman": scoring.spearman(values[a][both], values[b][both]) if n > 2 else None})
    return pd.DataFrame(rows)


def derive(ctx) -> None:
    native = ctx.frames.pop("native_scores", None)
    if native is None:
        return
    aliases = ctx.frames.pop("code_aliases", None)
    # the published ISCO-08 scores, kept for the ISCO-08 tables (taskshift.build.derive.isco)
    ctx.frames["isco08_native_scores"] = native[native["code_system"] == "isco08"].reset_index(drop=True)
    isco_tasks = ctx.frames.get("ilo_task_exposure")
    fit = TaskFit(ctx.frames.get("tasks"), isco_tasks) if isco_tasks is not None else None
    if fit is not None:  # kept for the ISCO-08 tables (taskshift.build.derive.isco), an intermediate frame
        ctx.frames["isco_task_fit"] = fit.to_frame()
    exposure = role_exposure(native, ctx.frames["roles"], ctx.frames["crosswalks"], ctx.frames["oews_codes"], aliases,
                             ctx.frames.get("oews_history"), ctx.frames.get("tasks"), isco_tasks, fit)
    exposure["employment_percentile"] = employment_percentiles(exposure, ctx.frames["roles"])
    exposure["exposed"] = scoring.exposed(exposure["employment_percentile"])
    exposure["exposed"] = exposure["exposed"].astype("Int64")
    ctx.frames["role_exposure"] = exposure
    ctx.frames["measure_correlations"] = correlations(exposure)
    ctx.note("crosswalk_rules", RULES, "how each measure reaches the roles (derivation, native_weights and weight_basis of role_exposure)")
    counts = exposure.groupby(["measure_id", "derivation"]).size()
    ctx.note("crosswalk_counts", {f"{m}/{d}": int(n) for (m, d), n in counts.items()},
             "roles per measure and derivation")
