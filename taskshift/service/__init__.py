"""The answering service: one set of functions behind the Datasette plugin, the library and the CLI.

Every function takes an open sqlite3 connection to a taskshift database and returns a pydantic model
of `taskshift.service.models`; all the arithmetic is in `taskshift.scoring`. A request walks one way:
site route -> service -> scoring -> database.

- `index`: the in-memory index of one database (loaded once per file) and shared helpers
- `errors`: ServiceError (InvalidInput 400, NotFound 404) naming the field at fault; `validate`
- `scores`: score_role, score_custom, score_workforce, score_all
- `titles`: match_title (job title -> roles), match_task (free text -> O*NET task)
- `consensus`: the consensus block across families of measures (role, custom role, workforce)
- `semantic`: matching by meaning (task and title embeddings + BM25); the semantic fallback of match_title
- `postings`, `profile`: a job posting -> duty statements -> O*NET tasks, nearest roles and exposure
- `states`: US states (OEWS by state): score_state, rank_states
- `isco`: ISCO-08 groups as weighted sets of roles: score_isco, ISCO-08 entries of a workforce
- `history`: what is actually happening to a role over time (postings of its Indeed categories)
- `transitions`: ranked pivots to related, less exposed roles with the reskilling gap
- `models`: pydantic models of every request and response (the OpenAPI description is made from them)
"""
from __future__ import annotations

from taskshift.service.errors import InvalidInput, NotFound, ServiceError, validate
from taskshift.service.history import history
from taskshift.service.index import Index, index_for
from taskshift.service.scores import RULES, score_all, score_custom, score_role, score_workforce
from taskshift.service.titles import match_task, match_title
from taskshift.service.transitions import rank_transitions, transitions
from taskshift.service.consensus import consensus_role
from taskshift.service.profile import parse_request as profile_request, profile
from taskshift.service.semantic import warm_up
from taskshift.service.isco import score_isco
from taskshift.service.states import rank_states, score_state

__all__ = ["InvalidInput", "NotFound", "ServiceError", "validate", "Index", "index_for", "RULES", "score_all",
           "score_custom", "score_role", "score_workforce", "match_task", "match_title", "rank_transitions", "transitions",
           "consensus_role", "profile", "profile_request", "warm_up", "score_isco", "history", "score_state",
           "rank_states"]
