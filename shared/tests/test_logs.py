"""JSON log lines carry no personal data: a ValidationError is told by where and what kind,
never by the input it quotes; other errors keep their traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from pydantic import BaseModel, EmailStr, ValidationError

from shared.logs import JsonFormatter

EMAIL = "zhang.san@private_example.com"  # invalid: its error message quotes it


class Contact(BaseModel):
    email: EmailStr
    phone: int


class _Kept(logging.Handler):
    """Keeps the records logged to it, unformatted."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _logged(raises: Callable[[], None]) -> logging.LogRecord:
    """The record `log.exception` writes for whatever `raises()` raises."""
    logger = logging.getLogger("test.logs")
    handler = _Kept()
    logger.addHandler(handler)
    try:
        try:
            raises()
        except Exception:
            logger.exception("handler failed")
    finally:
        logger.removeHandler(handler)
    [record] = handler.records
    return record


def _invalid_contact() -> None:
    Contact.model_validate_json(json.dumps({"email": EMAIL, "phone": "+86 571 5550"}))


def test_a_logged_validation_error_names_fields_and_error_types_without_the_input() -> None:
    line = json.loads(JsonFormatter("svc", "zj").format(_logged(_invalid_contact)))

    assert "zhang.san" not in line["error"] and "5550" not in line["error"]
    assert "email: value_error" in line["error"]
    assert "phone: int_parsing" in line["error"]
    assert line["message"] == "handler failed"


def test_a_validation_error_anywhere_in_the_chain_is_told_without_the_input() -> None:
    def wrapped() -> None:
        try:
            _invalid_contact()
        except ValidationError as exc:
            raise RuntimeError(f"could not read the body: {exc}") from exc

    line = json.loads(JsonFormatter("svc", "zj").format(_logged(wrapped)))

    assert "zhang.san" not in line["error"]
    assert line["error"].startswith("RuntimeError <- ValidationError (Contact, 2)")


def test_other_errors_keep_their_traceback() -> None:
    def fails() -> None:
        raise KeyError("template_variable")

    line = json.loads(JsonFormatter("svc", "zj").format(_logged(fails)))

    assert line["error"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'template_variable'" in line["error"]
