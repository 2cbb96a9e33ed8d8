"""The demo federation on one machine: a real Kafka broker (KRaft), a local SMTP server,
and two nodes — the superior federation `zj` and the enterprise union `hzsteel` — each
running enrollment, awards and notifications on SQLite. Seeds demo data, prints where
everything is, and stops it all on Ctrl-C.

    python -m deploy.local.demo [--data .data/demo]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from deploy.local.federation import (
    ENTERPRISE_NODE,
    ROOTS,
    SECOND_ENTERPRISE_NODE,
    SUPERIOR_NODE,
    Federation,
    launch,
)
from deploy.local.kafka import LocalKafka
from deploy.local.smtp import SmtpSink

PORTS = {
    SUPERIOR_NODE: {"enrollment": 8101, "awards": 8102, "notifications": 8103},
    ENTERPRISE_NODE: {"enrollment": 8201, "awards": 8202, "notifications": 8203},
    SECOND_ENTERPRISE_NODE: {"enrollment": 8301, "awards": 8302, "notifications": 8303},
}


def seed(federation: Federation) -> dict[str, str]:
    """Two members, a programme of the city federation, one enrollment (the org tree is
    registered by `launch`)."""
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
    programme = federation.publish_programme(SUPERIOR_NODE, "zj-hz", capacity=1)
    member = federation.member_client(ENTERPRISE_NODE, li)
    member.wait_for(f"/programmes/{programme['programme_id']}", lambda body: True)
    for person in (li, wang):
        client = federation.member_client(ENTERPRISE_NODE, person)
        enrollment = client.post(
            "/enrollments", {"programme_id": programme["programme_id"]}, expect=202
        )
        client.wait_for(
            f"/enrollments/{enrollment['id']}", lambda body: body["status"] != "requested"
        )
        client.close()
    member.close()
    return {
        "li": li["member_id"],
        "wang": wang["member_id"],
        "programme": programme["programme_id"],
    }


def print_guide(federation: Federation, ids: dict[str, str], data: Path, kafka: LocalKafka) -> None:
    tokens = federation.tokens
    mail_dir = data / "mail"
    print("\n=== Big School demo federation is up ===")
    print(
        f"Kafka (KRaft, SASL on, ACLs per node): {kafka.bootstrap}; admin password in "
        f"{kafka.data_dir / 'admin.password'}, node passwords in {data / 'kafka-secrets'}/"
    )
    print(f"E-mail: local SMTP server; every message is saved in {mail_dir}/")
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
        "member Li Lei @ hzsteel": tokens.issue(
            node=ENTERPRISE_NODE,
            org="hzsteel-rolling",
            roles="member",
            sub="member:li",
            member_id=ids["li"],
        ),
    }
    print("\nDemo tokens (Authorization: Bearer …), valid 8 hours:")
    for who, token in demo_tokens.items():
        print(f"  {who}:\n    {token}")
    print(f"\nProgramme {ids['programme']} (capacity 1): Li Lei confirmed, 王芳 waitlisted.")
    print("Press Ctrl-C to stop everything.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path(".data/demo"))
    parser.add_argument("--kafka-port", type=int, default=9092)
    parser.add_argument("--smtp-port", type=int, default=8025)
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
            launch(
                kafka.admin,
                data,
                smtp_port=smtp.port,
                ports=PORTS,
                progress=lambda msg: print(msg, flush=True),
            ) as federation,
        ):
            print("seeding demo data …", flush=True)
            ids = seed(federation)
            print_guide(federation, ids, data, kafka)
            while all(
                p.proc and p.proc.poll() is None
                for n in federation.nodes.values()
                for p in n.services.values()
            ):
                time.sleep(1)
            print("a service stopped unexpectedly; see the logs under", data, file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\nstopped.")
        return 0


if __name__ == "__main__":
    sys.exit(main())
