"""Entrypoint: `python -m awards` runs HTTP, consumers and the outbox relay in one process."""

from awards.app import create_app


def main() -> None:
    app = create_app()
    app.state.runtime.serve(app)


if __name__ == "__main__":
    main()
