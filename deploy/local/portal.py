"""Start a node's portal as its own OS process, like the node's services, signing its demo
people in with the demo issuer's key."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet

from deploy.local.node import Node, ServiceProcess
from deploy.local.ports import free_port
from portal.people import Person
from shared.auth.keys import kid_of


def portal_process(
    node: Node,
    keys_dir: Path,
    people: list[Person],
    port: int | None = None,
    name: str = "portal",
) -> ServiceProcess:
    """The portal of `node`, not started yet; its people file and log in the node's folder
    under `name` (tests run several portals on one node). Cookies are not `Secure` here: the
    demo serves plain HTTP on loopback."""
    people_path = node.data_dir / f"{name}-people.json"
    people_path.write_text(
        json.dumps([p.as_json() for p in people], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    port = port or free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BIGSCHOOL_")},
        "BIGSCHOOL_PORTAL_NODE_ID": node.node_id,
        "BIGSCHOOL_PORTAL_ENROLLMENT_URL": node.url("enrollment"),
        "BIGSCHOOL_PORTAL_AWARDS_URL": node.url("awards"),
        "BIGSCHOOL_PORTAL_NOTIFICATIONS_URL": node.url("notifications"),
        "BIGSCHOOL_PORTAL_HTTP_PORT": str(port),
        "BIGSCHOOL_PORTAL_SESSION_KEY": Fernet.generate_key().decode(),
        "BIGSCHOOL_PORTAL_COOKIE_SECURE": "false",
        "BIGSCHOOL_PORTAL_DEMO_PRIVATE_KEY_PATH": str(keys_dir / "private.pem"),
        "BIGSCHOOL_PORTAL_DEMO_KID": kid_of(keys_dir / "jwks.json"),
        "BIGSCHOOL_PORTAL_DEMO_PEOPLE_PATH": str(people_path),
    }
    return ServiceProcess("portal", port, env, node.data_dir / f"{name}.log")
