"""Entrypoint: `python -m notifications` runs HTTP, consumers and the dispatcher in one process."""

from shared.runtime import serve


def main() -> None:
    serve("notifications.app:create_app")


if __name__ == "__main__":
    main()
