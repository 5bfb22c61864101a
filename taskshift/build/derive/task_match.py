"""One matcher for every source keyed on task *text*: statements -> O*NET 30.2 task ids, with evidence.

Sources such as the Anthropic Economic Index publish figures per O*NET task statement (lower-cased
text, no ids), in the wording of the O*NET release they used. O*NET rewords tasks between releases:
it keeps the Task ID for a light revision and gives a new id when it rewrites or replaces a task.
`TaskMatcher.match(texts)` tries, per statement, in this order (the first that matches wins):

1. `text`: the normalised statement (lower-case, letters and digits only, so "curricula, and" equals
   "curricula and") equals the normalised statement of O*NET 30.2 tasks -> all of those tasks.
2. `task_id`: the normalised statement is in a *task history* list (another release's task list with
   ids: Anthropic's O*NET ~20.1 list, Eloundou et al.'s O*NET 27.x list, O*NET 30.2) under a Task ID
   that O*NET 30.2 still has -> those tasks (O*NET kept the id, so it is the same task).
3. `reworded`: for each history occurrence of the statement (a task of an old occupation), the 30.2
   task of the occupation's successors (O*NET-SOC 2010 -> 2019 crosswalk for O*NET-SOC 2010 lists,
   the same occupation otherwise) whose wording is most similar, if the similarity is at least
   `REWORD_MIN`. A statement in no history list (its old occupation unknown) may match the most
   similar 30.2 task of any occupation, if at least `REWORD_MIN_ANY`. (Where the old occupation is
   known the search stays in its successors: over every occupation, a short statement finds look-alikes
   of other trades, e.g. "teach archeology at colleges and universities" vs a materials scientist's
   "teach in colleges and universities", 0.86.)
4. `reviewed`: a statement O*NET retired (its Task ID is gone) that no step above matches, read by a
   person against the three most similar 30.2 tasks of its old occupation's successors
   (`dataset/curated/task_match_reviews.csv`, made by `dataset/curated/propose_task_match_reviews.py`):
   the candidates decided `same_work` (the same activity on the same object, often broader or on newer
   technology). A review never overrides an automatic match (the build fails if a reviewed statement is
   matched by a step above, or if a candidate is not a task of a successor of the old occupation).
5. `none`: no match; `task_id` is null and the row keeps the best similarity found, as evidence.

Similarity (`scoring.text_similarity`) is the Sørensen–Dice coefficient of the two statements'
content-word sets (function words dropped, plurals folded). The thresholds were measured on a
labelled sample kept in `tests/data/task_match_sample.csv` (made by `tests/data/make_task_match_sample.py`):
positives are statements O*NET revised but kept the Task ID of (older list vs the spine: the same task,
reworded); negatives pair a spine task with the most similar *other* task of its own occupation (two
tasks O*NET lists separately). `REWORD_MIN` is the threshold with the highest accuracy on the sample;
`REWORD_MIN_ANY`, used when the search runs over every occupation (many more candidates), is the
lowest threshold above every negative of the sample. `tests/test_task_match.py` re-measures both.

Usage (a build step that has the frames `tasks`, `task_history`, `crosswalks`):

    matcher = task_match.from_frames(ctx.frames)
    matches = matcher.match(texts)   # one row per (text, task); unmatched texts: one row, task_id null
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from taskshift import scoring

#: Measured on tests/data/task_match_sample.csv (see the module docstring and tests/test_task_match.py).
REWORD_MIN = 0.66
REWORD_MIN_ANY = 0.81
METHODS = ("text", "task_id", "reworded", "reviewed", "none")
METHOD_TEXT = {
    "text": "the normalised statement (lower-case, letters and digits only) equals an O*NET 30.2 statement",
    "task_id": "the statement is in another release's task list under a Task ID that O*NET 30.2 still has",
    "reworded": f"the most similar O*NET 30.2 statement of the old occupation's successor occupations, Dice similarity of "
                f"content words >= {REWORD_MIN:g} (a statement in no history list: of any occupation, >= {REWORD_MIN_ANY:g})",
    "reviewed": "a retired O*NET task (Task ID gone from 30.2) that no automatic step matches, decided by review: the "
                "successor-occupation task that does the same work (task_match_reviews)",
    "none": "no match; the row keeps its share with a null task_id and the best similarity found",
}
COLUMNS = ["text", "key", "task_id", "role_code", "method", "similarity", "n_tasks", "evidence"]
REVIEWS = "task_match_reviews"
REVIEW_COLUMNS = ["review_id", "statement", "old_role_code", "old_task_id", "task_id", "role_code", "candidate_rank",
                  "similarity", "decision", "note", "source"]


_NOT_KEY = re.compile(r"[^a-z0-9]+")
_NOT_KEY_BYTES = bytes(c for c in range(256) if not (ord("a") <= c <= ord("z") or ord("0") <= c <= ord("9")))


def _key(text: str) -> str:
    """`text` lower-cased with all but a-z and 0-9 left out (an ASCII text by bytes.translate, ~3x faster)."""
    text = text.lower()
    if text.isascii():
        return text.encode("ascii").translate(None, _NOT_KEY_BYTES).decode("ascii")
    return _NOT_KEY.sub("", text)


def normalise(text, memo: dict | None = None) -> pd.Series:
    """Lower-case and keep only a-z and 0-9: the key statements are matched on exactly. `memo` (text -> key,
    e.g. `TaskMatcher.keys`): keys made before, reused; the texts it lacks are added to it."""
    s = pd.Series(text, dtype=object)
    values = s.tolist()
    if all(isinstance(v, str) for v in values):  # the usual case: one pass in Python, no pandas string machinery
        keys = {} if memo is None else memo
        for v in set(values).difference(keys):  # each distinct text once (task lists repeat them)
            keys[v] = _key(v)
        return pd.Series([keys[v] for v in values], index=s.index, dtype=object)
    return s.str.lower().str.replace(_NOT_KEY.pattern, "", regex=True)


def _positions(keys: list) -> dict:
    """{key: [positions]} in order of first appearance, missing keys left out (as a groupby of the
    positions by key, sort=False, would give them)."""
    out: dict = {}
    for i, k in enumerate(keys):
        if not isinstance(k, str) and pd.isna(k):
            continue
        out.setdefault(k, []).append(i)
    return out


class _Occurrence(NamedTuple):
    """A statement in a task history list: which list, code system, occupation, Task ID (a named tuple:
    ~57k are made per build)."""
    list_id: str
    code_system: str
    occupation_code: str
    task_id: int


@dataclass
class TaskMatcher:
    """Matches statements to the tasks of `tasks` (task_id, role_code, statement: O*NET 30.2).

    `history`: task lists of other releases (list_id, code_system, occupation_code, task_id, statement);
    `successors`: O*NET-SOC 2010 -> 2019 code pairs (from_code, to_code);
    `reviews`: the reviewed candidates (statement, old_role_code, old_task_id, task_id, candidate_rank, decision,
    note; index = CSV line), or None. `review_problems` lists the reviews that do not hold (see `check_reviews`).
    """
    tasks: pd.DataFrame
    history: pd.DataFrame
    successors: pd.DataFrame
    reword_min: float = REWORD_MIN
    reword_min_any: float = REWORD_MIN_ANY
    reviews: pd.DataFrame | None = None
    _by_key: dict = field(init=False, repr=False)
    #: statement -> key (`normalise`) of every statement the matcher has normalised: steps that normalise the
    #: same task lists pass it to `normalise` as its memo
    keys: dict = field(default_factory=dict, init=False, repr=False)
    #: (text, key) -> the rows `match` gave it: sources that publish the same statements (Anthropic's task usage
    #: and collaboration files) are matched once per matcher
    _matched: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        t = self.tasks[["task_id", "role_code", "statement"]].sort_values("task_id", ignore_index=True)
        self._ids = t["task_id"].to_numpy(dtype="int64")
        self._roles = t["role_code"].to_numpy(dtype=object)
        self._statements = t["statement"].to_numpy(dtype=object)
        self._pos = {int(i): k for k, i in enumerate(self._ids)}
        keys = normalise(t["statement"], self.keys)
        self._by_key = _positions(keys.tolist())
        self._role_rows = {r: np.asarray(g) for r, g in _positions(self._roles.tolist()).items()}
        words = [scoring.content_words(s) for s in self._statements]
        self._sizes = np.array([len(w) for w in words], dtype="float64")
        postings: dict[str, list[int]] = {}
        for k, ws in enumerate(words):
            for w in ws:
                postings.setdefault(w, []).append(k)
        self._postings = {w: np.asarray(v, dtype="int64") for w, v in postings.items()}

        h = self.history.assign(key=normalise(self.history["statement"], self.keys).to_numpy())
        h = h.sort_values(["key", "list_id", "occupation_code", "task_id"], kind="stable")
        self._history: dict[str, list[tuple]] = {}
        for key, list_id, system, occupation, task_id in zip(
                *(h[c].tolist() for c in ("key", "list_id", "code_system", "occupation_code", "task_id"))):
            self._history.setdefault(key, []).append(_Occurrence(list_id, system, occupation, int(task_id)))
        succ = self.successors.groupby("from_code")["to_code"].agg(lambda s: sorted(set(s)))
        self._successors = succ.to_dict()
        self._reviewed: dict[str, list[tuple[int, str]]] = {}
        self._rejected: dict[str, int] = {}
        if self.reviews is not None:
            r = self.reviews.assign(key=normalise(self.reviews["statement"], self.keys).to_numpy())
            for key, decision, tid, old_role, old_tid, note in zip(r["key"], r["decision"], r["task_id"], r["old_role_code"],
                                                                   r["old_task_id"], r["note"]):
                k = self._pos.get(int(tid))
                if decision == "same_work" and k is not None:
                    self._reviewed.setdefault(key, []).append(
                        (k, f"O*NET retired Task ID {int(old_tid)} of {old_role}; a reviewer found this task of "
                            f"{self._roles[k]} does the same work: {note}"))
                elif decision != "same_work":
                    self._rejected[key] = self._rejected.get(key, 0) + 1

    # --- similarity ---------------------------------------------------------------------------
    def similarity(self, text: str) -> np.ndarray:
        """Dice similarity of `text` to every 30.2 task (in task-id order)."""
        words = scoring.content_words(text)
        shared = np.zeros(len(self._ids))
        for w in words:
            rows = self._postings.get(w)
            if rows is not None:
                shared[rows] += 1.0
        return scoring.dice(shared, len(words), self._sizes)

    def _successor_roles(self, code_system: str, code: str) -> list[str]:
        if code_system == "onetsoc2010":
            return self._successors.get(code, [])
        return [code]

    # --- matching -----------------------------------------------------------------------------
    def match_one(self, text: str, key: str | None = None, reviewed: bool = True) -> list[dict]:
        """The rows of one statement (see `match`); `reviewed=False`: the automatic steps alone."""
        key = normalise([text], self.keys).iloc[0] if key is None else key
        rows = self._by_key.get(key)
        if rows:
            return [self._row(text, key, k, "text", 1.0, "normalised text equal") for k in rows]

        hist = self._history.get(key)
        if hist is not None:
            found = []
            for occ in sorted(hist, key=lambda o: (o.task_id, o.list_id)):
                k = self._pos.get(int(occ.task_id))
                if k is not None and k not in [f[0] for f in found]:
                    found.append((k, f"Task ID {occ.task_id} in {occ.list_id} ({occ.occupation_code})"))
            if found:
                sim = self.similarity(text)
                return [self._row(text, key, k, "task_id", float(sim[k]), ev) for k, ev in found]

        sim = self.similarity(text)
        sim = np.where(np.isnan(sim), 0.0, sim)
        found: dict[int, str] = {}
        if hist is not None:
            for occ in hist:
                roles = [r for r in self._successor_roles(occ.code_system, occ.occupation_code) if r in self._role_rows]
                if not roles:
                    continue
                cand = np.concatenate([self._role_rows[r] for r in roles])
                best = cand[np.argmax(sim[cand])]  # candidates are in task-id order: ties -> lowest id
                if sim[best] >= self.reword_min - 1e-12 and best not in found:
                    via = "" if roles == [occ.occupation_code] else f", successor of {occ.occupation_code}"
                    found[int(best)] = (f"most similar task of {self._roles[best]}{via} "
                                        f"(Task ID {occ.task_id} in {occ.list_id})")
        if found:
            return [self._row(text, key, k, "reworded", float(sim[k]), ev) for k, ev in sorted(found.items())]
        best = int(np.argmax(sim))
        if hist is None and sim[best] >= self.reword_min_any - 1e-12:
            return [self._row(text, key, best, "reworded", float(sim[best]), "most similar task of any occupation")]
        found_by_review = self._reviewed.get(key) if reviewed else None
        if found_by_review:
            return [self._row(text, key, k, "reviewed", float(sim[k]), ev) for k, ev in sorted(found_by_review)]
        where = "no task history" if hist is None else "history: " + ", ".join(
            sorted({f"{o.list_id} {o.occupation_code}" for o in hist}))[:200]
        if key in self._rejected:
            where += f"; reviewed: {self._rejected[key]} successor task(s) rejected (task_match_reviews)"
        return [{"text": text, "key": key, "task_id": None, "role_code": None, "method": "none",
                 "similarity": float(sim[best]),
                 "evidence": f"closest: Task ID {self._ids[best]} ({self._roles[best]}) at {sim[best]:.3f}; {where}"}]

    def _row(self, text, key, k, method, similarity, evidence) -> dict:
        return {"text": text, "key": key, "task_id": int(self._ids[k]), "role_code": self._roles[k],
                "method": method, "similarity": similarity, "evidence": evidence}

    def check_reviews(self) -> list[str]:
        """Reviews that do not hold, one message each (CSV line, column, rule): a candidate task missing from the
        spine or not a task of a successor of the old occupation; a reviewed statement that an automatic step
        matches (a review never overrides one)."""
        if self.reviews is None:
            return []
        where = f"dataset/curated/{REVIEWS}.csv"
        problems = []
        for line, row in self.reviews.iterrows():
            k = self._pos.get(int(row["task_id"]))
            if k is None:
                problems.append(f"{where}: line {line}: column task_id: {int(row['task_id'])} is not an O*NET 30.2 task")
                continue
            allowed = set(self._successor_roles("onetsoc2010", row["old_role_code"])) | {row["old_role_code"]}
            if self._roles[k] not in allowed:
                problems.append(f"{where}: line {line}: column task_id: task {int(row['task_id'])} is a task of "
                                f"{self._roles[k]}, not of a successor of {row['old_role_code']}")
        for statement in self.reviews["statement"].drop_duplicates():
            auto = self.match_one(statement, reviewed=False)
            if auto[0]["method"] != "none":
                line = self.reviews.index[self.reviews["statement"] == statement][0]
                problems.append(f"{where}: line {line}: column statement: {statement[:60]!r} is matched automatically "
                                f"({auto[0]['method']}, task {auto[0]['task_id']}): drop its review")
        return problems

    def reviews_table(self) -> pd.DataFrame:
        """The reviews as the `task_match_reviews` table: each candidate with its role and Dice similarity."""
        if self.reviews is None:
            return pd.DataFrame(columns=REVIEW_COLUMNS)
        r = self.reviews.copy()
        pos = r["task_id"].map(lambda t: self._pos[int(t)])
        r["role_code"] = [self._roles[k] for k in pos]
        r["similarity"] = [scoring.text_similarity(a, self._statements[k]) for a, k in zip(r["statement"], pos)]
        r = r.sort_values(["statement", "candidate_rank"], ignore_index=True)
        r["review_id"] = np.arange(1, len(r) + 1)
        return r[REVIEW_COLUMNS]

    def match(self, texts) -> pd.DataFrame:
        """One row per (text, matched task), in input order; an unmatched text gives one row with a
        null task_id. `n_tasks`: how many tasks the text matched (0 if none)."""
        texts = pd.Series(texts, dtype=object)
        rows = []
        for text, key in zip(texts, normalise(texts, self.keys)):
            if (text, key) not in self._matched:
                self._matched[text, key] = self.match_one(text, key)
            rows += self._matched[text, key]
        out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "n_tasks"])
        out["task_id"] = out["task_id"].astype("Int64")
        n = out.groupby("text", sort=False)["task_id"].transform("count")
        out["n_tasks"] = n.astype("int64")
        return out[COLUMNS]


def from_frames(frames: dict[str, pd.DataFrame], **kwargs) -> TaskMatcher:
    """The matcher over the build's frames: `tasks` (O*NET 30.2), `task_history`, `crosswalks` (and `reviews`
    if given)."""
    history = frames.get("task_history")
    if history is None:
        history = pd.DataFrame(columns=["list_id", "code_system", "occupation_code", "task_id", "statement"])
    cw = frames["crosswalks"]
    succ = cw.loc[(cw["from_system"] == "onetsoc2010") & (cw["to_system"] == "onetsoc2019"), ["from_code", "to_code"]]
    return TaskMatcher(frames["tasks"], history, succ, **kwargs)


def shared(ctx, **kwargs) -> TaskMatcher:
    """One matcher per build (its index over ~19k tasks and ~57k history statements takes seconds to make):
    made on first use from the build's frames, then reused by every step that matches task text.

    The reviewed candidates come from `dataset/curated/task_match_reviews.csv`; the build fails on a review
    that does not hold, and writes them as the `task_match_reviews` table."""
    key = ("task_matcher", tuple(sorted(kwargs.items())))
    if key not in ctx.cache:
        from taskshift.build import curated
        from taskshift.build.assemble import BuildError

        matcher = from_frames(ctx.frames, reviews=curated.read(REVIEWS), **kwargs)
        problems = matcher.check_reviews()
        if problems:
            raise BuildError(problems)
        ctx.frames[REVIEWS] = matcher.reviews_table()
        ctx.cache[key] = matcher
    return ctx.cache[key]


def summary(matches: pd.DataFrame, shares: pd.Series | None = None) -> dict:
    """Per method: statements and (if `shares`, aligned with the distinct texts by `text`) share of
    the total; the matched share. For metadata and reports."""
    first = matches.drop_duplicates("text")
    out = {"statements": int(len(first)), "by_method": {}}
    total = None
    if shares is not None:
        shares = pd.Series(shares)
        total = float(shares.sum())
    for method in METHODS:
        texts = first.loc[first["method"] == method, "text"]
        entry = {"statements": int(len(texts))}
        if shares is not None:
            entry["share"] = float(shares.reindex(texts).sum() / total) if total else None
        out["by_method"][method] = entry
    if shares is not None:
        out["share_matched"] = 1.0 - out["by_method"]["none"]["share"] if total else None
    return out
