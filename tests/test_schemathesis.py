"""The OpenAPI description says exactly what the server accepts: schemathesis against the served plugin.

Every operation of `/-/openapi.json` (as the served database describes it) gets schema-valid requests
(each must get a 2xx, or a 404 for a role, task or text the database does not have: never a 400 or a
413) and schema-invalid ones (each must be refused with a 4xx), and every response must match its
documented status, content type and schema. Seeded (Hypothesis `derandomize`), at least 1,000 cases,
in-process over ASGI: no server, no network.
"""
from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from datasette.app import Datasette
from hypothesis import HealthCheck, Phase, given, settings

from taskshift.site.serve import SETTINGS

POSITIVE_PER_OPERATION = 160
NEGATIVE_PER_OPERATION = 60
MIN_CASES = 1000


#: An invalid request must be refused: schemathesis' statuses, and the size limits (413 body, 414 URL, 431 headers).
REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "431"]


@pytest.fixture(scope="module")
def api_schema(built_db):
    datasette = Datasette(immutables=[str(built_db)], settings=SETTINGS)
    config = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REFUSED}}})
    return schemathesis.openapi.from_asgi("/-/openapi.json", datasette.app(), config=config)


def _run(operation, mode, examples: int, seen: Counter, statuses: Counter) -> None:
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call_and_validate()
        seen[(operation.label, str(mode))] += 1
        statuses[(str(mode), response.status_code)] += 1

    check()


def test_schemathesis_finds_no_5xx_no_schema_violation_and_no_valid_request_rejected(api_schema):
    seen, statuses = Counter(), Counter()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /-/score/{role_code}", "POST /-/score", "POST /-/score/workforce",
                                               "GET /-/match", "GET /-/transitions/{role_code}"}
    for operation in operations:
        _run(operation, schemathesis.GenerationMode.POSITIVE, POSITIVE_PER_OPERATION, seen, statuses)
        if operation.label != "GET /-/openapi.json":  # no parameters: no invalid request to make
            _run(operation, schemathesis.GenerationMode.NEGATIVE, NEGATIVE_PER_OPERATION, seen, statuses)
    total = sum(seen.values())
    print(f"schemathesis: {total} cases; by operation and mode {dict(seen)}; statuses {dict(sorted(statuses.items()))}")
    assert total >= MIN_CASES, (total, seen)
    assert not any(status >= 500 for _, status in statuses), statuses
    assert statuses[("positive", 200)] > 0 and any(s == 400 for m, s in statuses if m == "negative")
