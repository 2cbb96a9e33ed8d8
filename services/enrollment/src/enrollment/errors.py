"""The enrollment service's errors: each carries its HTTP status (rendered as problem JSON)."""

from shared.web.problems import Conflict, Forbidden, Gone, NotFound, Problem, Unprocessable

__all__ = ["Conflict", "Forbidden", "Gone", "NotFound", "Problem", "Unprocessable"]


class UnsupportedMediaType(Problem):
    status, title = 415, "Unsupported media type"
