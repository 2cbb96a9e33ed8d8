"""The demo federation on one machine: a real Kafka broker (KRaft), a local SMTP server,
and three nodes — the superior federation `zj` and the enterprise unions `hzsteel` and
`hzbus` — each running enrollment, awards and notifications on SQLite, and its web portal.
Seeds demo data, prints where everything is, and stops it all on Ctrl-C.

    python -m deploy.local.demo [--data .data/demo]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from deploy.local.demo_awards import OFFICER, REVIEWERS, seed_recognition
from deploy.local.federation import (
    ENTERPRISE_NODE,
    ROOTS,
    SECOND_ENTERPRISE_NODE,
    SUPERIOR_NODE,
    Federation,
    launch,
)
from deploy.local.http_sink import HttpSink
from deploy.local.kafka import LocalKafka
from deploy.local.node import ServiceProcess
from deploy.local.portal import portal_process
from deploy.local.smtp import SmtpSink
from portal.people import Person

PORTS = {
    SUPERIOR_NODE: {"enrollment": 8101, "awards": 8102, "notifications": 8103},
    ENTERPRISE_NODE: {"enrollment": 8201, "awards": 8202, "notifications": 8203},
    SECOND_ENTERPRISE_NODE: {"enrollment": 8301, "awards": 8302, "notifications": 8303},
}
PORTAL_PORTS = {SUPERIOR_NODE: 8100, ENTERPRISE_NODE: 8200, SECOND_ENTERPRISE_NODE: 8300}


def _enrol(federation: Federation, node: str, person: dict[str, Any], pid: str) -> str:
    client = federation.member_client(node, person)
    try:
        client.wait_for(f"/programmes/{pid}", lambda body: True)
        enrollment = client.post("/enrollments", {"programme_id": pid}, expect=202)
        client.wait_for(
            f"/enrollments/{enrollment['id']}", lambda body: body["status"] != "requested"
        )
        return str(enrollment["id"])
    finally:
        client.close()


def _wait_status(
    federation: Federation, node: str, person: dict[str, Any], eid: str, status: str
) -> None:
    client = federation.member_client(node, person)
    try:
        client.wait_for(f"/enrollments/{eid}", lambda body: body["status"] == status)
    finally:
        client.close()


def seed(federation: Federation) -> dict[str, str]:
    """The lifecycle once through (the org tree is registered by `launch`): the city
    federation's budget and a programme with a seat per enterprise; members of two enterprise
    nodes ask; one gives the seat up, the next in line gets the offer and takes it; a skills
    competition is attended and completed, and its certificate can be verified publicly; a
    roster is imported; Li Lei moves to the bus company; recognition (demo_awards.py)."""
    li = federation.register_member(
        ENTERPRISE_NODE,
        "hzsteel-rolling",
        name="Li Lei",
        email="li.lei@example.org",
        language="en",
        employee_no="HZ-1001",
    )
    wang = federation.register_member(
        ENTERPRISE_NODE,
        "hzsteel-rolling",
        name="王芳",
        email="wang.fang@example.org",
        language="zh",
        employee_no="HZ-1002",
    )
    chen = federation.register_member(
        SECOND_ENTERPRISE_NODE,
        "hzbus-depot",
        name="陈刚",
        email="chen.gang@example.org",
        language="zh",
        employee_no="BUS-0007",
    )
    year = (datetime.now(UTC) + timedelta(days=7)).year
    city = federation.client(
        SUPERIOR_NODE, "enrollment", org="zj-hz", roles="cadre", sub="cadre@zj-hz"
    )
    city.http.put(
        f"/budgets/zj-hz/{year}", json={"union_fund_fen": 10_000_000, "education_share_bp": 2000}
    ).raise_for_status()
    course = federation.publish_programme(
        SUPERIOR_NODE,
        "zj-hz",
        capacity=2,
        quotas={"hzsteel": 1, "hzbus": 1},
        cost_per_seat_fen=50_000,
        place="杭州市职工培训中心",
    )["programme_id"]
    li_seat = _enrol(federation, ENTERPRISE_NODE, li, course)  # confirmed
    wang_place = _enrol(federation, ENTERPRISE_NODE, wang, course)  # waitlisted: quota
    _enrol(federation, SECOND_ENTERPRISE_NODE, chen, course)  # confirmed
    member = federation.member_client(ENTERPRISE_NODE, li)
    member.post(f"/enrollments/{li_seat}/cancel", {}, expect=202)
    member.close()
    _wait_status(federation, ENTERPRISE_NODE, wang, wang_place, "offered")
    member = federation.member_client(ENTERPRISE_NODE, wang)
    member.post(f"/enrollments/{wang_place}/accept", {}, expect=202)
    member.close()
    _wait_status(federation, ENTERPRISE_NODE, wang, wang_place, "confirmed")

    contest = federation.publish_programme(
        SUPERIOR_NODE,
        "zj-hz",
        capacity=10,
        title="Crane operators' skills competition",
        kind="skills_competition",
        quality_area="technical_skills",
        hours=6,
    )["programme_id"]
    chen_seat = _enrol(federation, SECOND_ENTERPRISE_NODE, chen, contest)
    city.post(
        f"/programmes/{contest}/attendance",
        {"enrollment_ids": [chen_seat], "attended": True},
        expect=200,
    )
    city.post(
        f"/programmes/{contest}/seats/{chen_seat}/completion", {"score": 95, "rank": 1}, expect=200
    )
    city.close()
    member = federation.member_client(SECOND_ENTERPRISE_NODE, chen)
    certificates = member.wait_for(
        f"/members/{chen['member_id']}/certificates", lambda body: bool(body["items"])
    )
    member.close()
    roster_job = _import_roster(federation)
    _transfer(federation, li, "hzbus-depot")
    recognition = seed_recognition(federation, chen, li, year)
    return {
        **{f"awards_{k}": v for k, v in recognition.items()},
        "li": li["member_id"],
        "wang": wang["member_id"],
        "chen": chen["member_id"],
        "programme": course,
        "contest": contest,
        "year": str(year),
        "verification_url": certificates["items"][0]["verification_url"],
        "roster_job": roster_job,
    }


def _import_roster(federation: Federation) -> str:
    """The rolling mill's roster as a spreadsheet export: 24 workers, one of them with an
    e-mail address that is not one (reported in the job's errors.csv)."""
    lines = ["姓名,工号,邮箱,语言"] + [
        f"工人{n:02d},HZ-2{n:03d},{'not-an-address' if n == 7 else f'worker{n}@example.org'},zh"
        for n in range(24)
    ]
    cadre = federation.client(
        ENTERPRISE_NODE, "enrollment", org="hzsteel-rolling", roles="cadre", sub="cadre@rolling"
    )
    response = cadre.http.post(
        "/rosters/imports?org=hzsteel-rolling",
        content="\r\n".join(lines).encode("gb18030"),  # as spreadsheets in China save it
        headers={"Content-Type": "text/csv"},
    )
    response.raise_for_status()
    job = response.headers["Location"]
    cadre.wait_for(job, lambda body: body["status"] in ("done", "failed"))
    cadre.close()
    return f"{federation.nodes[ENTERPRISE_NODE].url('enrollment')}{job}"


def _transfer(federation: Federation, person: dict[str, Any], to_org: str) -> None:
    """A member moves to a union hosted by another node: the old home's token, the new home's
    intake; the old node keeps no contact data of theirs."""
    old = federation.client(
        ENTERPRISE_NODE, "enrollment", org=person["home_org"], roles="cadre", sub="cadre@old"
    )
    token = old.post(f"/members/{person['member_id']}/transfer", {"to_org": to_org})["token"]
    old.close()
    new = federation.client(
        SECOND_ENTERPRISE_NODE, "enrollment", org=to_org, roles="cadre", sub="cadre@new"
    )
    contact = {k: person[k] for k in ("name", "email", "language")}
    new.post("/members/intake", {"token": token, "home_org": to_org, **contact}, expect=202)
    new.wait_for(f"/members/{person['member_id']}", lambda body: body["status"] == "active")
    new.close()


def demo_people(ids: dict[str, str]) -> dict[str, list[Person]]:
    """Whom each node's sign-in page offers (Li Lei lives at hzbus since his transfer)."""
    return {
        SUPERIOR_NODE: [
            Person("zj-hz-cadre", "杭州市总工会 干部", "zj-hz", ("cadre",)),
            Person("zj-admin", "浙江省总工会 管理员", "zj", ("admin",)),
            # The demo scheme's safety officer and panel (deploy/local/demo_awards.py).
            Person("officer", "安全生产 审核员", "zj-hz", ("reviewer",), subject=OFFICER),
            Person("rev-a", "评审专家 甲", "zj-hz", ("reviewer",), subject=REVIEWERS[0]),
            Person("rev-b", "评审专家 乙", "zj", ("reviewer",), subject=REVIEWERS[1]),
        ],
        ENTERPRISE_NODE: [
            Person("wang", "王芳", "hzsteel-rolling", ("member",), ids["wang"]),
            Person("rolling-cadre", "轧钢车间工会 干部", "hzsteel-rolling", ("cadre",)),
        ],
        SECOND_ENTERPRISE_NODE: [
            Person("chen", "陈刚", "hzbus-depot", ("member",), ids["chen"]),
            Person("li", "Li Lei", "hzbus-depot", ("member",), ids["li"]),
            Person("depot-cadre", "公交一场工会 干部", "hzbus-depot", ("cadre",)),
        ],
    }


def start_portals(
    federation: Federation, keys_dir: Path, people: dict[str, list[Person]]
) -> dict[str, ServiceProcess]:
    portals = {
        node_id: portal_process(node, keys_dir, people[node_id], PORTAL_PORTS[node_id])
        for node_id, node in federation.nodes.items()
    }
    for portal in portals.values():
        portal.start()
    for portal in portals.values():
        portal.wait_ready()
    return portals


def print_portals(portals: dict[str, ServiceProcess], people: dict[str, list[Person]]) -> None:
    print("\nPortals (sign in by choosing a demo person; zh by default, English on every page):")
    for node_id, portal in portals.items():
        names = ", ".join(f"{p.name} ({p.org}, {'/'.join(p.roles)})" for p in people[node_id])
        print(f"  {node_id:<8} {portal.url}/signin   {names}")


def print_guide(federation: Federation, ids: dict[str, str], data: Path, kafka: LocalKafka) -> None:
    tokens = federation.tokens
    mail_dir = data / "mail"
    print("\n=== Big School demo federation is up ===")
    print(
        f"Kafka (KRaft, SASL on, ACLs per node): {kafka.bootstrap}; admin password in "
        f"{kafka.data_dir / 'admin.password'}, node passwords in {data / 'kafka-secrets'}/"
    )
    print(f"E-mail: local SMTP server; every message is saved in {mail_dir}/")
    print(f"SMS: local HTTP provider; every text is logged in {data / 'sms'}/requests.jsonl")
    for node_id, node in federation.nodes.items():
        print(f"\nNode {node_id} (root org {ROOTS[node_id]})")
        for service in ("enrollment", "awards", "notifications"):
            print(f"  {service:<14} API docs {node.url(service)}/docs")
    demo_tokens = {
        "zj-hz cadre @ zj": tokens.issue(
            node=SUPERIOR_NODE, org="zj-hz", roles="cadre", sub="cadre@zj-hz"
        ),
        "hzsteel-rolling cadre @ hzsteel": tokens.issue(
            node=ENTERPRISE_NODE,
            org="hzsteel-rolling",
            roles="cadre",
            sub="cadre@hzsteel-rolling",
        ),
        "member Li Lei @ hzbus (moved there from hzsteel)": tokens.issue(
            node=SECOND_ENTERPRISE_NODE,
            org="hzbus-depot",
            roles="member",
            sub="member:li",
            member_id=ids["li"],
        ),
        "member 王芳 @ hzsteel": tokens.issue(
            node=ENTERPRISE_NODE,
            org="hzsteel-rolling",
            roles="member",
            sub="member:wang",
            member_id=ids["wang"],
        ),
        "member 陈刚 @ hzbus": tokens.issue(
            node=SECOND_ENTERPRISE_NODE,
            org="hzbus-depot",
            roles="member",
            sub="member:chen",
            member_id=ids["chen"],
        ),
    }
    print("\nDemo tokens (Authorization: Bearer …), valid 8 hours:")
    for who, token in demo_tokens.items():
        print(f"  {who}:\n    {token}")
    print(
        f"\nProgramme {ids['programme']} (2 seats, one per enterprise, 500 yuan a seat): Li Lei "
        "gave his seat up, 王芳 (next in line) was offered it and took it, 陈刚 holds the other."
    )
    print(
        f"Skills competition {ids['contest']}: 陈刚 attended and won; his certificate, public: "
        f"{ids['verification_url']}"
    )
    print(
        f"The city federation's {ids['year']} training budget: GET "
        f"{federation.nodes[SUPERIOR_NODE].url('enrollment')}/budgets/zj-hz/{ids['year']} "
        "(zj-hz cadre token); its participants: GET …/programmes/<id>/seats."
    )
    print(
        f"Roster import (GB18030 CSV, 24 rows, one bad): GET {ids['roster_job']} and "
        "…/errors.csv (hzsteel-rolling cadre token)."
    )
    print(
        "Li Lei moved from hzsteel-rolling to hzbus-depot (transfer token, intake): hzsteel "
        "keeps only {member_id, moved_to, at}; his record and enrollments are at hzbus."
    )
    print(
        "Roll-ups for the city federation (snapshots every 30 s): GET "
        f"{federation.nodes[SUPERIOR_NODE].url('enrollment')}/rollups/zj-hz?year={ids['year']}"
        ", …/children, …/levels, …/children.xlsx (zj-hz cadre token)."
    )
    awards = federation.nodes[SUPERIOR_NODE].url("awards")
    bus_awards = federation.nodes[SECOND_ENTERPRISE_NODE].url("awards")
    print(
        "Recognition: the city's skilled-craftsman scheme; 陈刚 nominated by his depot, "
        "endorsed by hzbus, cleared and scored at zj, on public notice for 7 days: GET "
        f"{awards}/nominations/{ids['awards_nomination']} and …/trail (zj-hz cadre token); the "
        f"notice at every node of the subtree: GET {bus_awards}/notices/{ids['awards_notice']} "
        "(陈刚's or Li Lei's token)."
    )
    print(
        "Li Lei got an immediate reward from the depot (200 yuan, within the monthly quota "
        "hzbus gave it): on his honours record, GET "
        f"{bus_awards}/members/{ids['li']}/honours (his token), and in his e-mail."
    )
    print("Press Ctrl-C to stop everything.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path(".data/demo"))
    parser.add_argument("--kafka-port", type=int, default=9092)
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--sms-port", type=int, default=8026)
    args = parser.parse_args(argv)
    data: Path = args.data.resolve()
    if data.exists():
        shutil.rmtree(data)  # a fresh federation each time: the demo seeds its own data

    def stop_on_signal(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_signal)
    # The demo broker listens on loopback only: kafka-python's warning about a password sent
    # over a non-TLS connection says nothing useful here (production uses SASL_SSL).
    logging.getLogger("kafka.net.sasl").setLevel(logging.ERROR)
    try:
        with (
            LocalKafka(data / "kafka", args.kafka_port) as kafka,
            SmtpSink(port=args.smtp_port, mail_dir=data / "mail") as smtp,
            # The local SMS provider: every text message is appended to sms/requests.jsonl.
            HttpSink(port=args.sms_port, log_dir=data / "sms") as sms,
            launch(
                kafka.admin,
                data,
                smtp_port=smtp.port,
                ports=PORTS,
                extra_env={"BIGSCHOOL_SMS_BASE_URL": sms.url},
                progress=lambda msg: print(msg, flush=True),
            ) as federation,
        ):
            print("seeding demo data …", flush=True)
            ids = seed(federation)
            people = demo_people(ids)
            print("starting the portals …", flush=True)
            portals = start_portals(federation, data / "keys", people)
            try:
                print_guide(federation, ids, data, kafka)
                print_portals(portals, people)
                processes = [
                    *portals.values(),
                    *(p for n in federation.nodes.values() for p in n.services.values()),
                ]
                while all(p.proc and p.proc.poll() is None for p in processes):
                    time.sleep(1)
                print("a process stopped unexpectedly; see the logs under", data, file=sys.stderr)
                return 1
            finally:
                for portal in portals.values():
                    portal.stop()
    except KeyboardInterrupt:
        print("\nstopped.")
        return 0


if __name__ == "__main__":
    sys.exit(main())
