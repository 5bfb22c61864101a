"""Errors of the scoring service: each names the field at fault and the HTTP status the API gives it."""
from __future__ import annotations

from pydantic import BaseModel, ValidationError


# --- errors --------------------------------------------------------------------------------------
class ServiceError(Exception):
    """A request the service cannot answer; `status` is the HTTP status the API gives it."""
    status = 400

    def __init__(self, field: str, problem: str, kind: str | None = None, errors: list[dict] | None = None):
        self.errors = errors or [{"field": field, "problem": problem, "type": kind}]
        super().__init__("; ".join(f"{e['field']}: {e['problem']}" for e in self.errors))


class InvalidInput(ServiceError, ValueError):
    status = 400

    @classmethod
    def from_validation(cls, err: ValidationError) -> "InvalidInput":
        errors = []
        for e in err.errors(include_url=False):
            loc = ".".join(str(p) for p in e.get("loc", ()))
            msg = e.get("msg", "invalid")
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            errors.append({"field": loc or "body", "problem": msg, "type": e.get("type")})
        return cls("body", "invalid", errors=errors)


class NotFound(ServiceError, LookupError):
    status = 404


def validate(model: type[BaseModel], data) -> BaseModel:
    """`model` from a dict, JSON bytes/str or an instance; InvalidInput naming each bad field."""
    if isinstance(data, model):
        return data
    try:
        if isinstance(data, (bytes, bytearray, str)):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as err:
        raise InvalidInput.from_validation(err) from None


