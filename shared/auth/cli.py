"""`bigschool-token`: make the demo's signing keys and issue tokens for the demo and tests.

bigschool-token keygen --dir .data/keys
bigschool-token issue --dir .data/keys --node zj --org zj --roles cadre --sub alice
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from shared.auth.keys import generate_keys, kid_of
from shared.auth.tokens import issue_token


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bigschool-token", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="create private.pem and jwks.json")
    keygen.add_argument("--dir", type=Path, required=True)
    issue = sub.add_parser("issue", help="print a signed token")
    issue.add_argument("--dir", type=Path, required=True, help="folder with private.pem")
    issue.add_argument("--issuer", default="bigschool-federation")
    issue.add_argument("--node", required=True, help="audience node id")
    issue.add_argument("--org", required=True)
    issue.add_argument("--roles", default="member", help="comma-separated")
    issue.add_argument("--sub", required=True)
    issue.add_argument("--member-id")
    issue.add_argument("--ttl-minutes", type=int, default=8 * 60)
    args = parser.parse_args(argv)
    if args.command == "keygen":
        private, jwks = generate_keys(args.dir)
        print(f"private key: {private}\nJWKS: {jwks}")
        return
    token = issue_token(
        (args.dir / "private.pem").read_bytes(),
        kid=kid_of(args.dir / "jwks.json"),
        issuer=args.issuer,
        node=args.node,
        sub=args.sub,
        org=args.org,
        roles=[r for r in args.roles.split(",") if r],
        member_id=args.member_id,
        ttl=timedelta(minutes=args.ttl_minutes),
    )
    print(token)


if __name__ == "__main__":
    main()
