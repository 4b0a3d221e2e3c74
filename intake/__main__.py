"""The ``intake`` command (and ``python -m intake``)."""

from __future__ import annotations

import gc


def main() -> None:
    """Console entry point: run the staff CLI with the garbage collector paused for start-up.

    Loading SQLAlchemy, the database driver and intake creates a few hundred thousand objects,
    none of them garbage; the collector would scan them over and over while they load, and
    once more at exit. That is about 80 ms of the 0.3-0.4 s an editor waits for ``intake
    list``. The command group turns the collector back on, with those objects frozen, before
    the command itself runs (see :func:`intake.cli.startup_over`).
    """
    gc.disable()
    from intake.cli import main as run

    run()


if __name__ == "__main__":  # not when a worker process (parse ahead) imports it
    main()
