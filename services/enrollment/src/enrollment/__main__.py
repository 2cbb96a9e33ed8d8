"""Entrypoint: `python -m enrollment` runs HTTP, consumers and the outbox relay in one process."""

from enrollment.app import create_app


def main() -> None:
    app = create_app()
    app.state.runtime.serve(app)


if __name__ == "__main__":
    main()
