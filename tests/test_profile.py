"""POST /-/profile, taskshift.profile and `taskshift profile`: a job posting -> duty statements -> O*NET tasks
by meaning -> nearest roles and exposure; the embeddings the build stores; the semantic fallback of /-/match;
the model loads and answers with the network off."""
from __future__ import annotations

import asyncio
import json
import shutil
import socket
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
import yaml
from datasette.app import Datasette

import taskshift
from taskshift import cli, embedding, scoring, service
from taskshift.service import models
from taskshift.service.postings import split_posting, time_shares
from taskshift.site.serve import SETTINGS

REPO = Path(__file__).resolve().parents[1]
POSTINGS = {p["id"]: p for p in yaml.safe_load((REPO / "bench" / "profile" / "postings.yaml").read_text())["postings"]}


@pytest.fixture(scope="module")
def lib_conn(built_db):
    return taskshift.connect(built_db)


@pytest_asyncio.fixture
async def ds(built_db):
    datasette = Datasette(immutables=[str(built_db)], settings=SETTINGS)
    await datasette.invoke_startup()
    return datasette


def assert_error(r, status, field, kind=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["ok"] is False and body["status"] == status
    assert any(e["field"] == field and (kind is None or e["type"] == kind) for e in body["errors"]), body
    return body


# --- splitting a posting ---------------------------------------------------------------------------
def test_split_keeps_duties_and_says_why_the_rest_was_dropped():
    text = """Senior Widget Analyst - Remote
About us
We are a fast-growing company that loves widgets.

Responsibilities:
- 40% Analyze widget sales data and prepare weekly reports
* Meet with suppliers to negotiate prices (20%)
• Train new analysts on our reporting tools
1. Analyze widget sales data and prepare weekly reports
You will answer questions from store managers about
  stock levels and deliveries.

Requirements
- 3+ years of experience in analytics
- Bachelor's degree in statistics

Benefits: medical, dental, vision, 401(k).
We are an equal opportunity employer and do not discriminate on the basis of race or religion.
"""
    split = split_posting(text)
    assert [s.text for s in split.statements] == [
        "Analyze widget sales data and prepare weekly reports",
        "Meet with suppliers to negotiate prices",
        "Train new analysts on our reporting tools",
        "You will answer questions from store managers about stock levels and deliveries",
    ]
    assert split.statements[3].query == "answer questions from store managers about stock levels and deliveries"
    assert split.statements[3].line == 10  # the wrapped sentence is one statement, numbered by its first line
    reasons = {d.text: d.reason for d in split.dropped}
    assert reasons["Senior Widget Analyst - Remote"] == "title or heading"
    assert reasons["About us"].startswith("heading (boilerplate")
    assert reasons["Responsibilities:"] == "heading (duties section)"
    assert reasons["Analyze widget sales data and prepare weekly reports"] == "duplicate"
    assert reasons["3+ years of experience in analytics"] == "requirement"
    assert reasons["Benefits: medical, dental, vision, 401(k)."].startswith("boilerplate")
    assert reasons["We are an equal opportunity employer and do not discriminate on the basis of race or religion."] \
        == "boilerplate: equal opportunity"
    # 40% and 20% stated, the other two share the remaining 40% equally
    assert split.shares == pytest.approx([0.4, 0.2, 0.2, 0.2])
    assert split.share_sources == ["stated", "stated", "rest", "rest"]


def test_split_plain_sentences_duties_words_that_look_like_boilerplate():
    split = split_posting("Apply fluoride and sealants to teeth. Pay vendor bills on time in QuickBooks. "
                          "Schedule interviews with candidates. Screen applicants by phone.\nGreat tips!")
    assert [s.text for s in split.statements] == ["Apply fluoride and sealants to teeth", "Pay vendor bills on time in QuickBooks",
                                                  "Schedule interviews with candidates", "Screen applicants by phone"]
    assert split.share_sources == ["equal"] * 4 and split.shares == pytest.approx([0.25] * 4)


def test_time_shares_rules():
    assert time_shares([None, None]) == ([0.5, 0.5], ["equal", "equal"])
    shares, sources = time_shares([70, None, None])
    assert shares == pytest.approx([0.7, 0.15, 0.15]) and sources == ["stated", "rest", "rest"]
    shares, sources = time_shares([80, 40, None])  # over 100%: normalised, nothing left for the rest
    assert shares == pytest.approx([2 / 3, 1 / 3, 0.0]) and sources == ["stated", "stated", "rest"]


def test_split_short_lists_and_single_lines():
    assert [s.text for s in split_posting("Answer phones\nGreet visitors\nSort the mail").statements] == [
        "Answer phones", "Greet visitors", "Sort the mail"]
    assert [s.text for s in split_posting("Drive trucks across the country").statements] == ["Drive trucks across the country"]
    split = split_posting("Service Plumber\nFix leaks in homes\nInstall water heaters")
    assert [s.text for s in split.statements] == ["Fix leaks in homes", "Install water heaters"]
    assert split.dropped[0].reason == "title or heading"


def test_split_is_bounded():
    text = "\n".join(f"- Inspect pallet number {i} for damage and log the result" for i in range(100))
    split = split_posting(text)
    assert len(split.statements) == 40
    assert sum(d.reason.startswith("limit") for d in split.dropped) == 60


# --- the profile -----------------------------------------------------------------------------------
def test_profile_of_a_nursing_posting(lib_conn, conn):
    r = taskshift.profile(POSTINGS["registered-nurse"]["text"], conn=lib_conn)
    codes = [n.code for n in r.nearest_roles]
    assert set(POSTINGS["registered-nurse"]["acceptable"]) & set(codes[:3]) and "29-1141.00" in codes
    assert all(c.startswith("29-") for c in codes[:3])  # healthcare practitioners
    assert [n.rank for n in r.nearest_roles] == list(range(1, 6))
    assert all(a.score >= b.score for a, b in zip(r.nearest_roles, r.nearest_roles[1:]))
    assert len(r.statements) == 7 and r.matched + r.unmatched == 7 and r.matched >= 5
    assert sum(s.share for s in r.statements) == pytest.approx(1.0)
    reasons = " ".join(d.reason for d in r.dropped)
    assert "equal opportunity" in reasons and "requirement" in reasons and "pay and benefits" in reasons
    queries = [s.query for s in split_posting(POSTINGS["registered-nurse"]["text"]).statements]
    for s, query in zip(r.statements, queries):
        band = scoring.match_band(s.match.similarity)[0] if s.match else "none"
        assert s.confidence == band
        if s.match:  # the task exists, belongs to its role, and the cosine is the stored vectors' dot product
            row = conn.execute("select role_code, statement from tasks where task_id = ?", (s.match.task_id,)).fetchone()
            assert row == (s.match.role_code, s.match.statement)
            blob = conn.execute("select vector from task_embeddings where task_id = ?", (s.match.task_id,)).fetchone()[0]
            q = embedding.load().encode([query])[0]
            assert float(q @ embedding.from_blobs([blob])[0]) == pytest.approx(s.match.similarity, abs=1e-5)
            assert s.match.score == pytest.approx(s.match.similarity + scoring.HYBRID_LEXICAL_WEIGHT * s.match.lexical, abs=1e-5)
    # the exposure is the custom role of the matched tasks with the statements' shares (POST /-/score)
    matched = [s for s in r.statements if s.match]
    custom = service.score_custom(lib_conn, {"tasks": [{"task_id": s.match.task_id, "share": s.share} for s in matched]})
    assert r.score == custom and r.score.kind == "custom"
    assert [t.task_id for t in r.score.tasks] == [s.match.task_id for s in matched]
    assert {m.measure_id for m in r.score.measures} == set(service.index_for(lib_conn).scorable)
    assert r.score.profile.exposed_share is not None and r.score.profile.outlook in models.Outlook.__args__


@pytest.mark.parametrize("posting, code", [("cdl-driver", "53-3032.00"), ("airline-first-officer", "53-2011.00"),
                                           ("cashier-grocery", "41-2011.00"), ("customer-support", "43-4051.00")])
def test_roles_everyone_knows(lib_conn, posting, code):
    r = taskshift.profile(POSTINGS[posting]["text"], roles=3, conn=lib_conn)
    assert code in [n.code for n in r.nearest_roles], [n.code for n in r.nearest_roles]
    assert code in POSTINGS[posting]["acceptable"]


def test_a_weak_match_says_so(lib_conn):
    """The model knows little programming vocabulary: a backend posting finds web developers and QA testers (both
    acceptable) but not software developers, and every nearest role says its confidence is low."""
    r = taskshift.profile(POSTINGS["software-backend"]["text"], roles=3, conn=lib_conn)
    assert set(POSTINGS["software-backend"]["acceptable"]) & {n.code for n in r.nearest_roles}
    assert {n.confidence for n in r.nearest_roles} == {"low"} and r.unmatched >= 2


def test_library_cli_and_api_agree(lib_conn, built_db, tmp_path, capsys):
    text = POSTINGS["electrician"]["text"]
    lib = taskshift.profile(text, roles=4, measures=["eloundou2023_gpt4_beta"], conn=lib_conn).model_dump(mode="json")
    posting = tmp_path / "posting.txt"
    posting.write_text(text, encoding="utf-8")
    assert cli.main(["profile", str(posting), "--roles", "4", "--measures", "eloundou2023_gpt4_beta", "--json",
                     "--db", str(built_db)]) == 0
    from_cli = json.loads(capsys.readouterr().out)

    async def go():
        ds = Datasette(immutables=[str(built_db)], settings=SETTINGS)
        await ds.invoke_startup()
        return await ds.client.post("/-/profile", json={"text": text, "roles": 4, "measures": ["eloundou2023_gpt4_beta"]})
    api = asyncio.run(go())
    assert api.status_code == 200, api.text
    assert lib == from_cli == api.json()
    assert [m["measure_id"] for m in lib["score"]["measures"]] == ["eloundou2023_gpt4_beta"]
    assert cli.main(["profile", str(posting), "--db", str(built_db)]) == 0
    out = capsys.readouterr().out
    assert "nearest roles:" in out and "47-2111.00" in out and "exposure of this job" in out


@pytest.mark.asyncio
async def test_bad_profile_input_gets_a_clear_4xx(ds):
    assert_error(await ds.client.post("/-/profile", json={"text": ""}), 400, "text")  # the schema's minLength
    # a text with no duty statement in it profiles to nothing: a 404 (the OpenAPI allows any text; #16)
    assert_error(await ds.client.post("/-/profile", json={"text": "   \n "}), 404, "text", "empty")
    body = assert_error(await ds.client.post("/-/profile", json={"text": "Benefits: 401(k), dental.\nWe are an equal "
                                                                       "opportunity employer."}), 404, "text", "no_statements")
    assert "no duty statements" in body["error"]
    assert_error(await ds.client.post("/-/profile", json={"text": "Answer customer calls. " * 1000}), 413, "text", "too_large")
    raw = b'{"text": "Answer customer calls about \xff\xfe billing"}'
    assert_error(await ds.client.post("/-/profile", content=raw), 400, "text", "encoding")
    assert_error(await ds.client.post("/-/profile", json={}), 400, "text")
    assert_error(await ds.client.post("/-/profile", json={"text": 12}), 400, "text")
    assert_error(await ds.client.post("/-/profile", json={"text": "Drive trucks", "roles": 0}), 400, "roles")
    assert_error(await ds.client.post("/-/profile", json={"text": "Drive trucks", "extra": 1}), 400, "extra")
    assert_error(await ds.client.post("/-/profile", json={"text": "Drive trucks across the country", "measures": ["nope"]}),
                 400, "measures")
    assert_error(await ds.client.post("/-/profile", content=b"x" * (models.MAX_BODY_BYTES + 1)), 413, "body")
    r = await ds.client.get("/-/profile")
    assert r.status_code == 405 and r.json()["errors"][0]["field"] == "method"
    # a browser-like POST reaches the API (skip_csrf is derived from ROUTES)
    r = await ds.client.post("/-/profile", json={"text": "Drive trucks across the country"}, cookies={"ds_csrftoken": "abc"})
    assert r.status_code == 200


def test_bad_input_library_and_cli(lib_conn, built_db, tmp_path, capsys):
    with pytest.raises(service.InvalidInput) as err:
        taskshift.profile(b"Answer customer calls \xff", conn=lib_conn)
    assert err.value.errors[0]["field"] == "text" and err.value.errors[0]["type"] == "encoding"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Answer customer calls \xe9 about billing")
    assert cli.main(["profile", str(bad), "--db", str(built_db)]) == 2
    assert "text: is not valid UTF-8" in capsys.readouterr().err
    big = tmp_path / "big.txt"
    big.write_text("Answer customer calls. " * 1000)
    assert cli.main(["profile", str(big), "--db", str(built_db)]) == 1
    assert "text: is 23,000 characters" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_openapi_describes_profile(ds):
    import jsonschema

    spec = (await ds.client.get("/-/openapi.json")).json()
    op = spec["paths"]["/-/profile"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ProfileRequest")
    assert {"200", "400", "413"} <= set(op["responses"])
    defs = json.loads(json.dumps(spec["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/"))
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].replace("#/components/schemas/", "#/$defs/")
    body = (await ds.client.post("/-/profile", json={"text": POSTINGS["welder"]["text"]})).json()
    jsonschema.Draft202012Validator({"$ref": ref, "$defs": defs}).validate(body)


# --- the embeddings the build stores ----------------------------------------------------------------
def test_embeddings_tables_are_the_pinned_model_and_checksummed(conn):
    meta = dict(conn.execute("select key, value from metadata"))
    model = json.loads(meta["embedding_model"])
    assert model["package"] == "wordllama" and model["package_version"] == embedding.PACKAGE_VERSION
    assert model["weights_sha256"] == embedding.WEIGHTS_SHA256 and model["dim"] == 256
    tasks = conn.execute("select count(*) from tasks").fetchone()[0]
    rows = conn.execute("select task_id, vector from task_embeddings order by task_id").fetchall()
    assert len(rows) == tasks and {len(r[1]) for r in rows} == {512}
    info = json.loads(meta["task_embeddings"])
    assert info["rows"] == tasks and info["sha256"] == embedding.checksum(r[1] for r in rows)
    vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f2").reshape(len(rows), 256).astype(np.float32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=2e-3)
    # a stored vector is the model's embedding of the statement (float16 rounding aside)
    task_id, statement = conn.execute("select task_id, statement from tasks order by task_id limit 1 offset 500").fetchone()
    stored = dict(rows)[task_id]
    assert np.allclose(embedding.from_blobs([stored])[0], embedding.load().encode([statement])[0], atol=2e-3)
    titles = conn.execute("select count(*), count(distinct lower(title)) from titles").fetchone()
    n, keys = conn.execute("select count(*), sum(length(vector) = 256) from title_embeddings").fetchone()
    assert n == keys and n >= titles[1] * 0.95  # one vector per distinct title (whitespace collapsed)
    assert json.loads(meta["title_embeddings"])["sha256"] == embedding.checksum(
        r[0] for r in conn.execute("select vector from title_embeddings order by title"))


def test_a_database_with_other_vectors_is_refused(built_db, tmp_path):
    copy = tmp_path / "taskshift.db"
    shutil.copy(built_db, copy)
    with sqlite3.connect(copy) as c:
        c.execute("update task_embeddings set vector = ? where task_id = (select min(task_id) from task_embeddings)",
                  (bytes(512),))

    async def go():
        ds = Datasette(immutables=[str(copy)], settings=SETTINGS)
        await ds.invoke_startup()
        return (await ds.client.post("/-/profile", json={"text": "Drive trucks across the country"}),
                await ds.client.get("/-/match?title=software+developer"))
    profile, match = asyncio.run(go())
    assert_error(profile, 503, "database", "checksum")
    assert match.status_code == 200 and match.json()["matches"][0]["exact"]  # words still work


# --- the semantic fallback of /-/match ----------------------------------------------------------------
@pytest.mark.asyncio
async def test_match_falls_back_on_meaning_without_losing_exact_wins(ds):
    exact = (await ds.client.get("/-/match?title=software+developer&limit=5")).json()
    assert exact["matches"][0]["role_code"] == "15-1252.00" and exact["matches"][0]["exact"]
    assert exact["method"] != "semantic" and "semantic" not in {m["method"] for m in exact["matches"]}
    typo_response = (await ds.client.get("/-/match?title=receptionst&limit=5")).json()
    typo = typo_response["matches"]  # no title shares a word: found by meaning
    assert typo[0]["role_code"] == "43-4171.00" and typo[0]["method"] == "semantic" and typo_response["method"] == "semantic"
    assert typo[0]["similarity"] >= scoring.TITLE_MIN_SIMILARITY and typo[0]["relevance"] == typo[0]["similarity"]
    dogs = (await ds.client.get("/-/match?title=dogwalker&limit=3")).json()["matches"]
    assert dogs[0]["role_code"] == "39-2021.00" and dogs[0]["method"] == "semantic"
    accounts = (await ds.client.get("/-/match?title=accountancy+assistant&limit=3")).json()["matches"]
    assert accounts[0]["role_code"] == "43-3031.00"
    assert (await ds.client.get("/-/match?title=zzqxjv")).json()["matches"] == []


# --- offline -------------------------------------------------------------------------------------------
def test_model_loads_and_profiles_with_the_network_off(built_db, monkeypatch):
    """No socket may be opened while the model loads and a posting is profiled; wordllama's own loader,
    pointed at its package folder with downloads disabled, gives the same vectors as ours."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(embedding, "_ENCODER", None)
    from taskshift.service import semantic
    monkeypatch.setattr(semantic, "_SEMANTIC", {})

    conn = taskshift.connect(built_db)
    r = taskshift.profile(POSTINGS["cdl-driver"]["text"], conn=conn)
    assert "53-3032.00" in [n.code for n in r.nearest_roles[:3]] and r.score is not None

    from wordllama import WordLlama
    wl = WordLlama.load(cache_dir=embedding.package_dir(), disable_download=True)
    texts = ["Couple and uncouple trailers", "Answer customer calls about billing", "Plan and teach daily lessons"]
    assert np.allclose(wl.embed(texts, norm=True), embedding.load().encode(texts), atol=1e-5)
