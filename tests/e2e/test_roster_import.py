"""A roster import survives the enrollment service being killed: the real processes (two
workers) are SIGKILLed while the job runs; after the restart the job finishes, every good row
is in exactly once, every bad row is reported, and no row is half-written."""

from __future__ import annotations

import csv
import io
import time

import pytest

from deploy.local.federation import ENTERPRISE_NODE
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import query, wait_until
from tests.e2e.test_lifecycle import cadre

pytestmark = pytest.mark.e2e

ORG = "hzsteel-rolling"
ROWS, BAD_EVERY = 15_000, 100  # 1 % bad rows: an e-mail that is not one


def roster(prefix: str) -> tuple[bytes, int]:
    """A CSV of ROWS members (employee numbers `<prefix>-<n>`), and how many rows are bad."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "employee_no", "email", "phone"])
    bad = 0
    for n in range(ROWS):
        email = f"r{prefix}{n}@members.example"
        if n % BAD_EVERY == 7:
            email, bad = "not-an-address", bad + 1
        writer.writerow([f"Roster {prefix} {n}", f"{prefix}-{n}", email, f"+86 138 {n:08d}"])
    return out.getvalue().encode(), bad


def test_a_killed_enrollment_service_finishes_the_import_without_duplicates(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    prefix = f"K{int(time.time())}"
    body, bad = roster(prefix)
    importer = cadre(fed, ENTERPRISE_NODE, ORG)
    response = importer.http.post(
        f"/rosters/imports?org={ORG}", content=body, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 202, response.text
    job_url = response.headers["Location"]

    # Kill the service (both workers, SIGKILL) once some chunks are in but not all.
    job = wait_until(
        lambda: (j := importer.get(job_url))["done"] > 0 and j, 120, "the import to start"
    )
    assert job["done"] < job["total"] == ROWS, "the kill must land in the middle"
    service = fed.node(ENTERPRISE_NODE).services["enrollment"]
    service.kill()
    service.start()
    service.wait_ready()

    job = wait_until(
        lambda: (j := importer.get(job_url))["status"] in ("done", "failed") and j,
        300,
        "the import to finish after the restart",
    )
    assert job["status"] == "done", job
    assert (job["done"], job["good"], job["errors"]) == (ROWS, ROWS - bad, bad)
    url = fed.database_urls[ENTERPRISE_NODE]["enrollment"]
    [counts] = query(
        url,
        "SELECT count(*) AS members, count(DISTINCT employee_no) AS numbers FROM members "
        "WHERE home_org = $1 AND employee_no LIKE $2",
        ORG,
        f"{prefix}-%",
    )
    assert dict(counts) == {"members": ROWS - bad, "numbers": ROWS - bad}
    # Every member has a whole record (a chunk commits its rows and their events together).
    [half] = query(
        url,
        "SELECT count(*) AS n FROM members WHERE employee_no LIKE $1 "
        "AND (name IS NULL OR email IS NULL OR phone IS NULL)",
        f"{prefix}-%",
    )
    assert half["n"] == 0
    report = importer.http.get(job["errors_url"])
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(report.text)))[1:]
    assert len(lines) == bad
    assert {int(line[0]) for line in lines} == {n + 2 for n in range(ROWS) if n % BAD_EVERY == 7}
    importer.close()
