"""Bulk roster import: upload → job → members and events, chunk by chunk; the error report;
re-imports; bad files; who may import; the worker's lease and resume after a crash."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from enrollment.models import Member, RosterImport, RosterImportChunk, RosterImportError
from enrollment.service import roster as roster_service
from enrollment.service.roster import Step
from enrollment.service.roster_worker import MAX_FAILURES, RosterImports
from shared.clock import FixedClock

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROLLING = "hzsteel-rolling"
REGISTERED = "bigschool.member.registered.v1"


async def upload(service, token, body: bytes, *, org=ROLLING, who=None, media=CSV, **headers):
    headers = {**(who or token(org, "cadre")), "Content-Type": media, **headers}
    return await service.client.post(
        "/rosters/imports", params={"org": org}, content=body, headers=headers
    )


async def finish(service) -> None:
    worker: RosterImports = service.app.state.roster_imports
    while await worker.run_once():
        pass


async def job_of(service, token, response, org=ROLLING) -> dict[str, Any]:
    got = await service.client.get(response.headers["Location"], headers=token(org, "cadre"))
    assert got.status_code == 200, got.text
    return got.json()


async def report(service, token, job: dict[str, Any], org=ROLLING) -> list[list[str]]:
    got = await service.client.get(job["errors_url"], headers=token(org, "cadre"))
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))


async def count(db, model) -> int:
    async with db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def members(db) -> dict[tuple[str, str | None], tuple[Any, ...]]:
    async with db.reading() as session:
        found = (await session.execute(select(Member))).scalars().all()
    return {
        (m.home_org, m.employee_no): (
            m.name,
            m.email,
            m.phone,
            m.language,
            m.joined_on,
            m.skill_grade,
            m.birth_date,
        )
        for m in found
    }


def registered(rows) -> list[Any]:
    return [r for r in rows if r.type == REGISTERED]


# -- the happy path ---------------------------------------------------------------------------


async def test_an_upload_answers_202_with_the_job_and_the_worker_imports_every_good_row(
    node, token, outbox, make_roster
) -> None:
    sample = make_roster(300, bad_every=50)
    admin = token("zj", "admin")

    response = await upload(node, token, sample.csv(), org="zj", who=admin)

    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/rosters/imports/{response.json()['job_id']}"
    assert response.json()["status"] == "queued"
    assert await outbox(node.db) == []  # nothing is imported before the worker runs
    await finish(node)
    job = (await node.client.get(response.headers["Location"], headers=admin)).json()
    assert job["status"] == "done"
    assert (job["total"], job["done"]) == (300, 300)
    assert (job["good"], job["errors"], job["created"]) == (sample.good, 6, sample.good)
    assert await count(node.db, Member) == sample.good
    assert len(registered(await outbox(node.db))) == sample.good
    lines = (await node.client.get(job["errors_url"], headers=admin)).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(lines)))
    assert rows[0] == ["line", "column", "reason"]
    assert {int(r[0]): (r[1], r[2]) for r in rows[1:]} == sample.bad
    assert await count(node.db, RosterImportChunk) == 0  # no contact data left in the job


async def test_member_registered_carries_the_row_to_the_node_local_topic(
    node, token, outbox
) -> None:
    body = "姓名,工号,邮箱,手机,语言\n王芳,A1,wang.fang@hzsteel.example,138 0013 8000,英文\n"

    await upload(node, token, body.encode())
    await finish(node)

    [event] = await outbox(node.db)
    assert event.topic == "bigschool.node.zj.members.v1"
    assert event.payload | {"member_id": "-"} == {
        "member_id": "-",
        "home_org": ROLLING,
        "name": "王芳",
        "email": "wang.fang@hzsteel.example",
        "phone": "138 0013 8000",
        "language": "en",
    }


async def test_progress_advances_chunk_by_chunk(make_service, settings, token, make_roster):
    service = await make_service(settings.model_copy(update={"roster_chunk_rows": 40}))
    response = await upload(
        service, token, make_roster(100, bad_every=0).csv(), org="zj", who=token("zj", "admin")
    )
    worker = RosterImports(service.db, service.ctx)
    job_id = await worker.claim()
    assert job_id is not None

    seen = []
    while (step := await worker.step(job_id)) == Step.imported:
        seen.append((await job_of(service, token, response, org="zj"))["done"])

    assert step == Step.finished
    assert seen == [40, 80]
    assert (await job_of(service, token, response, org="zj"))["done"] == 100


async def test_importing_the_same_file_again_changes_nothing(node, token, outbox, make_roster):
    sample = make_roster(120, bad_every=30)
    admin = token("zj", "admin")
    await upload(node, token, sample.csv(), org="zj", who=admin)
    await finish(node)
    before, events = await members(node.db), len(await outbox(node.db))

    again = await upload(node, token, sample.csv(), org="zj", who=admin)
    await finish(node)

    job = (await node.client.get(again.headers["Location"], headers=admin)).json()
    assert (job["good"], job["created"], job["updated"]) == (sample.good, 0, 0)
    assert await members(node.db) == before
    assert len(await outbox(node.db)) == events  # no new member.registered


async def test_a_changed_row_updates_the_member_and_publishes_the_new_record(
    node, token, outbox
) -> None:
    await upload(node, token, b"name,employee_no,email\nLi Lei,A1,li@hzsteel.example\n")
    await finish(node)
    [first] = await outbox(node.db)

    response = await upload(node, token, b"name,employee_no,email\nLi Lei,A1,lei@hzsteel.example\n")
    await finish(node)

    job = await job_of(node, token, response)
    assert (job["created"], job["updated"]) == (0, 1)
    [_, second] = await outbox(node.db)
    assert second.payload["member_id"] == first.payload["member_id"]
    assert second.payload["email"] == "lei@hzsteel.example"
    assert await count(node.db, Member) == 1


async def test_a_column_the_file_lacks_is_kept_and_an_empty_cell_clears(node, token) -> None:
    await upload(node, token, b"name,employee_no,email,phone\nLi Lei,A1,li@hzsteel.example,12345\n")
    await finish(node)

    await upload(node, token, b"name,employee_no,phone\nLi Lei,A1,\n")
    await finish(node)

    [(name, email, phone, *_)] = (await members(node.db)).values()
    assert (name, email, phone) == ("Li Lei", "li@hzsteel.example", None)


async def test_a_change_of_eligibility_data_only_publishes_nothing(node, token, outbox) -> None:
    await upload(node, token, b"name,employee_no,skill_grade\nLi Lei,A1,3\n")
    await finish(node)

    response = await upload(node, token, b"name,employee_no,skill_grade\nLi Lei,A1,4\n")
    await finish(node)

    assert (await job_of(node, token, response))["updated"] == 1
    assert len(await outbox(node.db)) == 1  # the grade never leaves this database
    [(*_, grade, _birth)] = (await members(node.db)).values()
    assert grade == 4


async def test_a_member_registered_one_by_one_is_updated_by_their_employee_number(
    node, token, outbox
) -> None:
    body = {"home_org": ROLLING, "name": "Li Lei", "employee_no": "A1"}
    created = await node.client.post("/members", json=body, headers=token(ROLLING, "cadre"))
    assert created.status_code == 201

    await upload(node, token, b"name,employee_no\nLI Lei,A1\n")
    await finish(node)

    assert await count(node.db, Member) == 1
    assert (await outbox(node.db))[-1].payload["member_id"] == created.json()["member_id"]


async def test_posting_a_second_member_with_an_employee_number_of_the_org_is_a_conflict(
    node, token
) -> None:
    body = {"home_org": ROLLING, "name": "Li Lei", "employee_no": "A1"}
    await node.client.post("/members", json=body, headers=token(ROLLING, "cadre"))

    again = await node.client.post(
        "/members", json=body | {"name": "Li Lei 2"}, headers=token(ROLLING, "cadre")
    )

    assert again.status_code == 409
    assert again.json()["errors"] == [
        {"field": "employee_no", "reason": "another member of this org has this employee number"}
    ]
    other_org = body | {"home_org": "hzsteel-casting"}
    ok = await node.client.post(
        "/members", json=other_org, headers=token("hzsteel-casting", "cadre")
    )
    assert ok.status_code == 201


async def test_a_gb18030_csv_and_an_xlsx_import_the_same_data_as_utf8(
    make_service, settings, token, make_roster
) -> None:
    sample = make_roster(200, bad_every=40)
    admin = token("zj", "admin")
    results: list[Any] = []
    for body, media in [
        (sample.csv("utf-8"), CSV),
        (b"\xef\xbb\xbf" + sample.csv("utf-8"), CSV),
        (sample.csv("gb18030"), CSV),
        (sample.xlsx(), XLSX),
    ]:
        url = await fresh(settings, len(results))
        service = await make_service(settings.model_copy(update={"database_url": url}))
        response = await upload(service, token, body, org="zj", who=admin, media=media)
        assert response.status_code == 202, response.text
        await finish(service)
        job = (await service.client.get(response.headers["Location"], headers=admin)).json()
        results.append((await members(service.db), job["good"], job["errors"]))

    assert all(r == results[0] for r in results[1:])
    assert results[0][1:] == (sample.good, len(sample.bad))
    assert ("hzsteel-rolling", "E000001") in results[0][0]
    assert results[0][0][("hzsteel-rolling", "E000001")][0] == "工人1"


async def fresh(settings, n: int) -> str:
    """Another migrated SQLite database beside the test's own."""
    from enrollment.app import MIGRATIONS
    from shared.testing import migrated

    path = settings.database_url.rsplit("/", 1)[0] + f"/other-{n}.db"
    await migrated(MIGRATIONS, path)
    return path


# -- the error report -------------------------------------------------------------------------


async def test_formulas_in_xlsx_cells_are_row_errors_and_never_evaluated(node, token, make_roster):
    sample = make_roster(60, bad_every=20, kinds=("formula",))
    admin = token("zj", "admin")

    response = await upload(node, token, sample.xlsx(), org="zj", who=admin, media=XLSX)
    await finish(node)

    job = (await node.client.get(response.headers["Location"], headers=admin)).json()
    assert (job["good"], job["errors"]) == (57, 3)
    got = (await node.client.get(job["errors_url"], headers=admin)).content.decode("utf-8-sig")
    assert {tuple(r) for r in csv.reader(io.StringIO(got))} >= {
        (str(line), "name", "formula not allowed") for line in sample.bad
    }
    names = {v[0] for v in (await members(node.db)).values()}
    assert "2" not in names and "=1+1" not in names


async def test_the_report_names_lines_and_reasons_never_values(node, token) -> None:
    body = (
        "name,employee_no,email,phone,joined_on,skill_grade,org\n"
        "Li Lei,A1,secret-mail@,12345,2015-01-01,3,\n"
        "Han Meimei,,han@hzsteel.example,+86 12x,,,\n"
        "Wang Fang,A3,,,2999-01-01,9,\n"
        "Chen Gang,A4,,,,,hzsteel-casting\n"
        "Zhao Lei,A5,,,,,js-nj\n"
        "Liu Yang,A6,,,,,HZSTEEL-ROLLING\n"
    )

    response = await upload(node, token, body.encode())
    await finish(node)

    job = await job_of(node, token, response)
    assert (job["good"], job["errors"]) == (1, 5)
    rows = await report(node, token, job)
    assert rows[1:] == [
        ["2", "email", "not a valid e-mail address"],
        ["3", "employee_no", "required (the employee number is the import's key)"],
        [
            "3",
            "phone",
            "not a phone number (digits, spaces, '-', an optional leading '+'; 5 to 20)",
        ],
        ["4", "skill_grade", "Input should be less than or equal to 8"],
        ["5", "org", "not under the import's org hzsteel-rolling"],
        ["6", "org", "unknown grassroots org"],
    ]
    text = "\n".join(",".join(r) for r in rows)
    assert "secret-mail" not in text and "12x" not in text


async def test_a_date_in_the_future_is_refused_as_post_members_refuses_it(node, token) -> None:
    response = await upload(node, token, b"name,employee_no,birth_date\nLi Lei,A1,2999/1/1\n")
    await finish(node)

    rows = await report(node, token, await job_of(node, token, response))
    assert rows[1:] == [["2", "birth_date", "birth_date must not be in the future"]]


async def test_report_cells_that_would_start_a_formula_are_neutralised(node, token) -> None:
    body = b"=name,@employee_no,+email\nLi Lei,A1,not-an-email\n"

    response = await upload(node, token, body)
    await finish(node)

    job = await job_of(node, token, response)
    assert job["columns"] == {"name": "=name", "employee_no": "@employee_no", "email": "+email"}
    rows = await report(node, token, job)
    assert rows[1] == ["2", "'+email", "not a valid e-mail address"]


# -- bad files: a clear 422, no job, nothing committed ----------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("body", "media", "detail"),
    [
        ("name,employee_no\nMüller,A1\nZoë,A2\n".encode("latin-1"), CSV, "not UTF-8 or GB18030"),
        (b"\xff\xff\xfa\x80name,employee_no\n", CSV, "not UTF-8 or GB18030"),
        (PNG, CSV, "binary"),
        (b"PK\x03\x04" + bytes(100), CSV, "XLSX workbook"),
        (b"\xd0\xcf\x11\xe0" + bytes(100), CSV, ".xls"),
        ("name,employee_no\n".encode("utf-16"), CSV, "UTF-16"),
        (b"Li Lei,A1,li@hzsteel.example\nHan Meimei,A2,\n", CSV, "no header row"),
        (b"name,email\nLi Lei,li@hzsteel.example\n", CSV, "missing columns: employee_no"),
        (b"name,employee_no,Name\nLi Lei,A1,L\n", CSV, "columns named twice: name"),
        (b"name,employee_no\n\n,\n", CSV, "no rows"),
        (b"", CSV, "empty"),
        (PNG, XLSX, "not an XLSX workbook"),
        ("name,employee_no\n王芳,A1\n".encode(), XLSX, "not an XLSX workbook"),
    ],
    ids=[
        "latin-1",
        "undecodable",
        "png-as-csv",
        "xlsx-as-csv",
        "xls-as-csv",
        "utf-16",
        "no-header",
        "missing-column",
        "repeated-column",
        "no-rows",
        "empty",
        "png-as-xlsx",
        "csv-as-xlsx",
    ],
)
async def test_a_bad_file_is_a_422_naming_what_is_wrong_and_nothing_is_kept(
    node, token, outbox, body, media, detail
) -> None:
    response = await upload(node, token, body, media=media)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "file"
    assert await count(node.db, RosterImport) == 0
    assert await count(node.db, Member) == 0
    assert await outbox(node.db) == []


async def test_a_file_without_the_org_column_needs_a_grassroots_org(node, token) -> None:
    response = await upload(
        node, token, b"name,employee_no\nLi Lei,A1\n", org="zj", who=token("zj", "admin")
    )

    assert response.status_code == 422
    assert response.json()["missing_columns"] == ["org"]


async def test_a_file_of_more_rows_than_the_limit_is_refused_naming_it(
    node, token, make_roster
) -> None:
    body = make_roster(60_000, bad_every=0).csv()

    response = await upload(node, token, body, org="zj", who=token("zj", "admin"))

    assert response.status_code == 422
    assert response.json()["max_rows"] == 50_000
    assert "more than 50000 rows" in response.json()["detail"]
    assert await count(node.db, RosterImport) == 0


async def test_a_file_over_the_roster_body_limit_is_a_413(make_service, settings, token) -> None:
    small = settings.model_copy(
        update={"http_body_limits": {"/rosters": 100}, "roster_max_bytes": 100}
    )
    service = await make_service(small)

    response = await upload(service, token, b"name,employee_no\n" + b"Li Lei,A1\n" * 20)

    assert response.status_code == 413
    assert await count(service.db, RosterImport) == 0


async def test_another_media_type_is_a_415(node, token) -> None:
    response = await upload(node, token, b"{}", media="application/json")

    assert response.status_code == 415


# -- who may import ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org", "caller", "status"),
    [
        (ROLLING, ("hzsteel-casting", "cadre"), 403),  # another org's cadre
        (ROLLING, (ROLLING, "member"), 403),  # a member of the org
        (ROLLING, ("hzsteel", "cadre"), 403),  # the enterprise's cadre: not its roster
        ("hzsteel", ("hzsteel", "cadre"), 403),  # only the root's admin imports a subtree
        ("js-nj", ("js-nj", "cadre"), 404),  # hosted by another node
        ("nowhere", ("zj", "admin"), 404),
    ],
)
async def test_who_may_not_import(node, token, outbox, org, caller, status) -> None:
    response = await upload(
        node, token, b"name,employee_no\nLi Lei,A1\n", org=org, who=token(*caller)
    )

    assert response.status_code == status
    assert await count(node.db, RosterImport) == 0


async def test_the_roots_admin_imports_any_org_hosted_here(node, token) -> None:
    body = b"org,name,employee_no\nhzsteel-casting,Li Lei,A1\n"

    response = await upload(node, token, body, org="hzsteel", who=token("zj", "admin"))

    assert response.status_code == 202


@pytest.mark.parametrize(
    "caller",
    [("hzsteel-casting", "cadre"), (ROLLING, "member"), ("hzsteel", "cadre")],
)
async def test_only_the_orgs_cadres_and_the_admin_see_a_job(node, token, caller) -> None:
    response = await upload(node, token, b"name,employee_no\nLi Lei,bad mail\n")
    job = response.json()
    await finish(node)

    for url in (response.headers["Location"], job["errors_url"]):
        assert (await node.client.get(url, headers=token(*caller))).status_code == 404
        assert (await node.client.get(url, headers=token("zj", "admin"))).status_code == 200
        assert (await node.client.get(url, headers=token(ROLLING, "cadre"))).status_code == 200


# -- the worker: lease, crash and resume, failures ---------------------------------------------


async def test_a_crashed_workers_job_is_resumed_after_its_lease_without_duplicates(
    make_service, settings, token, outbox, make_roster
) -> None:
    clock = FixedClock(datetime(2030, 3, 1, 8, 0, tzinfo=UTC))
    service = await make_service(settings.model_copy(update={"roster_chunk_rows": 25}), clock)
    sample = make_roster(200, bad_every=20)
    admin = token("zj", "admin")
    response = await upload(service, token, sample.csv(), org="zj", who=admin)
    crashed = RosterImports(service.db, service.ctx)
    job_id = await crashed.claim()
    assert job_id is not None
    for _ in range(3):
        assert await crashed.step(job_id) == Step.imported  # then the process dies

    fresh_worker = RosterImports(service.db, service.ctx)
    assert await fresh_worker.claim() is None  # the lease still holds
    clock.at += timedelta(seconds=settings.roster_lease_seconds + 1)
    assert await fresh_worker.run_once()
    assert await crashed.step(job_id) == Step.lost  # it no longer holds the job

    job = (await service.client.get(response.headers["Location"], headers=admin)).json()
    assert (job["status"], job["done"], job["good"]) == ("done", 200, sample.good)
    assert await count(service.db, Member) == sample.good
    assert len(registered(await outbox(service.db))) == sample.good
    assert await count(service.db, RosterImportError) == len(sample.bad)


async def test_a_chunk_that_keeps_failing_fails_the_job_and_deletes_its_rows(
    make_service, settings, token, monkeypatch
) -> None:
    clock = FixedClock(datetime(2030, 3, 1, 8, 0, tzinfo=UTC))
    service = await make_service(settings, clock)
    response = await upload(service, token, b"name,employee_no\nLi Lei,A1\n")

    async def broken(*_args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(roster_service, "import_rows", broken)
    worker = RosterImports(service.db, service.ctx)
    for _ in range(MAX_FAILURES):
        clock.at += timedelta(minutes=5)  # past the backoff
        assert await worker.run_once()

    job = await job_of(service, token, response)
    assert (job["status"], job["failure"], job["done"]) == ("failed", "RuntimeError", 0)
    assert await count(service.db, RosterImportChunk) == 0
    assert not await worker.run_once()


# -- templates --------------------------------------------------------------------------------


async def test_the_csv_template_is_the_header_row(node, token) -> None:
    got = await node.client.get("/rosters/template.csv", headers=token(ROLLING, "cadre"))
    zh = await node.client.get("/rosters/template.csv?lang=zh", headers=token(ROLLING, "cadre"))

    assert got.status_code == 200
    assert got.content.startswith(b"\xef\xbb\xbf")
    assert got.content.decode("utf-8-sig").strip() == ",".join(
        [
            "org",
            "name",
            "employee_no",
            "email",
            "phone",
            "language",
            "joined_on",
            "skill_grade",
            "birth_date",
        ]
    )
    assert zh.content.decode("utf-8-sig").startswith("基层工会,姓名,工号,邮箱,手机,语言")


async def test_the_xlsx_template_reads_back_as_an_empty_roster_with_a_guide(node, token) -> None:
    from openpyxl import load_workbook

    got = await node.client.get("/rosters/template.xlsx", headers=token(ROLLING, "cadre"))

    book = load_workbook(io.BytesIO(got.content))
    assert book.sheetnames == ["roster", "columns"]
    assert [c.value for c in book["roster"][1]][:3] == ["org", "name", "employee_no"]
    for row in book["columns"].iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            assert not str(cell.value or "").startswith(("=", "+", "-", "@"))


async def test_templates_need_a_token(node) -> None:
    assert (await node.client.get("/rosters/template.csv")).status_code == 401
