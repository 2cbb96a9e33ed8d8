"""The ops command: upload through the API, a progress bar until the job ends, the report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io

import httpx
from rich.console import Console

from enrollment.roster import main, parse_args, run_import, run_template


def cli_client(node, headers: dict[str, str]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=node.app)
    return httpx.AsyncClient(transport=transport, base_url="http://zj.test", headers=headers)


async def test_the_cli_imports_a_file_with_a_progress_bar_and_saves_the_report(
    node, token, tmp_path, make_roster
) -> None:
    sample = make_roster(100, bad_every=25)
    path = tmp_path / "roster.csv"
    path.write_bytes(sample.csv())
    worker = asyncio.create_task(node.app.state.roster_imports.run())  # the service's own
    out = io.StringIO()
    args = parse_args(["import", str(path), "--org", "zj", "--token", "-"])
    try:
        async with cli_client(node, token("zj", "admin")) as client:
            status = await run_import(client, args, Console(file=out, width=120))
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    assert status == 2  # some rows were reported
    report = tmp_path / "roster.csv.errors.csv"
    assert f"see {report}" in out.getvalue().replace("\n", "")
    assert "100/100" in out.getvalue()  # the progress bar's last state
    lines = report.read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + len(sample.bad)


async def test_the_cli_saves_the_template(node, token, tmp_path) -> None:
    args = parse_args(["template", str(tmp_path / "t.xlsx"), "--lang", "zh", "--token", "-"])

    async with cli_client(node, token("hzsteel-rolling", "cadre")) as client:
        assert await run_template(client, args, Console(file=io.StringIO())) == 0

    assert (tmp_path / "t.xlsx").read_bytes().startswith(b"PK")


def test_the_cli_without_a_token_says_so(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("BIGSCHOOL_TOKEN", raising=False)
    (tmp_path / "r.csv").write_text("name,employee_no\n")

    assert main(["import", str(tmp_path / "r.csv"), "--org", "x"]) == 1
    assert "a token is needed" in capsys.readouterr().err


def test_the_cli_takes_the_node_url_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("BIGSCHOOL_NODE_URL", "http://node.example:8001")

    args = parse_args(["import", "r.csv", "--org", "x"])

    assert isinstance(args, argparse.Namespace)
    assert args.node_url == "http://node.example:8001"
