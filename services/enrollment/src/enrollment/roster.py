"""Roster import for ops, through the node's API (one code path with the portal's uploads):

    python -m enrollment.roster import FILE --org ORG [--node-url URL] [--token TOKEN]
    python -m enrollment.roster template FILE.csv|FILE.xlsx [--lang zh] [--node-url …]

`import` uploads FILE (.csv or .xlsx), shows a progress bar until the job ends, prints the
summary and saves the error report beside FILE (`<FILE>.errors.csv`, or `--errors PATH`).
The token (a cadre of ORG, or an admin of the node's root) comes from `--token` or
`BIGSCHOOL_TOKEN`; the node from `--node-url` or `BIGSCHOOL_NODE_URL` (default
http://127.0.0.1:8001). Exit status: 0 every row imported, 2 some rows reported, 1 the file
or the job failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from shared.web.spreadsheet import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE

DEFAULT_URL = "http://127.0.0.1:8001"
ENDED = ("done", "failed")


def media_type_of(path: Path, head: bytes) -> str:
    if path.suffix.lower() == ".xlsx" or (path.suffix.lower() != ".csv" and head[:2] == b"PK"):
        return XLSX_MEDIA_TYPE
    return CSV_MEDIA_TYPE


class ImportFailed(Exception):
    """The node refused the file, or the job failed: the message says why."""


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return f"HTTP {response.status_code}: {body.get('detail') or body.get('title')}"


async def import_file(
    client: httpx.AsyncClient,
    path: Path,
    org: str,
    *,
    console: Console | None = None,
    poll_seconds: float = 0.5,
) -> dict[str, Any]:
    """Upload, then follow the job to its end with a progress bar; the job's last state."""
    console = console or Console(stderr=True)
    body = await asyncio.to_thread(path.read_bytes)
    headers = {"Content-Type": media_type_of(path, body[:4]), "Idempotency-Key": str(uuid.uuid4())}
    response = await client.post(
        "/rosters/imports", params={"org": org}, content=body, headers=headers
    )
    if response.status_code != 202:
        raise ImportFailed(_problem(response))
    location = response.headers["Location"]
    job = response.json()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"importing {path.name}", total=job["total"])
        while job["status"] not in ENDED:
            await asyncio.sleep(poll_seconds)
            response = await client.get(location)
            if response.status_code != 200:
                raise ImportFailed(_problem(response))
            job = response.json()
            progress.update(task, completed=job["done"])
    return job


async def save_errors(client: httpx.AsyncClient, job: dict[str, Any], target: Path) -> Path:
    response = await client.get(job["errors_url"])
    if response.status_code != 200:
        raise ImportFailed(_problem(response))
    await asyncio.to_thread(target.write_bytes, response.content)
    return target


def summary(job: dict[str, Any]) -> Table:
    table = Table(title=f"roster import {job['job_id']} ({job['status']})")
    for name in ("total", "good", "created", "updated", "errors"):
        table.add_column(name, justify="right")
    table.add_row(*(str(job[name]) for name in ("total", "good", "created", "updated", "errors")))
    return table


async def run_import(client: httpx.AsyncClient, args: argparse.Namespace, console: Console) -> int:
    job = await import_file(client, args.file, args.org, console=console)
    console.print(summary(job))
    if job["status"] == "failed":
        console.print(f"the job failed: {job.get('failure')}", style="red", markup=False)
        return 1
    if job["errors"]:
        target = args.errors or args.file.with_name(args.file.name + ".errors.csv")
        await save_errors(client, job, target)
        console.print(f"{job['errors']} rows were not imported: see {target}", markup=False)
        return 2
    return 0


async def run_template(
    client: httpx.AsyncClient, args: argparse.Namespace, console: Console
) -> int:
    kind = "xlsx" if args.file.suffix.lower() == ".xlsx" else "csv"
    response = await client.get(f"/rosters/template.{kind}", params={"lang": args.lang})
    if response.status_code != 200:
        raise ImportFailed(_problem(response))
    await asyncio.to_thread(args.file.write_bytes, response.content)
    console.print(f"template written to {args.file}", markup=False)
    return 0


async def run(args: argparse.Namespace, console: Console) -> int:
    command = run_import if args.command == "import" else run_template
    async with _client(args) as client:
        return await command(client, args, console)


def _client(args: argparse.Namespace) -> httpx.AsyncClient:
    token = args.token or os.environ.get("BIGSCHOOL_TOKEN")
    if not token:
        raise ImportFailed("a token is needed: --token or BIGSCHOOL_TOKEN")
    return httpx.AsyncClient(
        base_url=args.node_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m enrollment.roster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    upload = commands.add_parser("import", help="import a roster file (.csv or .xlsx)")
    upload.add_argument("file", type=Path)
    upload.add_argument("--org", required=True, help="the org the import is for")
    upload.add_argument("--errors", type=Path, help="where to save the error report")
    template = commands.add_parser("template", help="save the template (.csv or .xlsx)")
    template.add_argument("file", type=Path)
    template.add_argument("--lang", choices=("en", "zh"), default="en")
    for command in (upload, template):
        command.add_argument(
            "--node-url", default=os.environ.get("BIGSCHOOL_NODE_URL", DEFAULT_URL)
        )
        command.add_argument("--token", help="bearer token (default: $BIGSCHOOL_TOKEN)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    try:
        return asyncio.run(run(args, console))
    except (ImportFailed, httpx.HTTPError, OSError) as exc:
        console.print(f"{type(exc).__name__}: {exc}", style="red", markup=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
