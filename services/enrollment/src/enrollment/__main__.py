"""Entrypoint: `python -m enrollment` runs HTTP, consumers and the outbox relay in one process."""

from shared.runtime import serve


def main() -> None:
    serve("enrollment.app:create_app")


if __name__ == "__main__":
    main()
