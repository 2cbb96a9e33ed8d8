"""The notifications service's errors: each carries its HTTP status (rendered as problem JSON)."""

from shared.web.problems import Forbidden, NotFound, Problem, Unprocessable

__all__ = ["Forbidden", "NotFound", "Problem", "Unprocessable"]
