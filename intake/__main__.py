"""``python -m intake``: the same as the ``intake`` command."""

from intake.cli import main

if __name__ == "__main__":  # not when a worker process (parse ahead) imports it
    main()
