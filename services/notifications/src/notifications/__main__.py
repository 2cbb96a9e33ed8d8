"""Entrypoint: `python -m notifications` runs HTTP, consumers and the dispatcher in one process."""

from notifications.app import create_app


def main() -> None:
    app = create_app()
    app.state.runtime.serve(app)


if __name__ == "__main__":
    main()
