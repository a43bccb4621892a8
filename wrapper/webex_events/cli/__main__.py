"""``python -m webex_events.cli``: the ``webex-events`` command."""

from webex_events.cli import main

if __name__ == "__main__":
    main()
