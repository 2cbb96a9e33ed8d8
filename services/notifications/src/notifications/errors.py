"""The notifications service's errors: each carries its HTTP status (rendered as problem JSON)."""

from shared.web.problems import Conflict, Forbidden, NotFound, Problem, Unprocessable

__all__ = ["Conflict", "Forbidden", "NotFound", "Problem", "Unprocessable"]
