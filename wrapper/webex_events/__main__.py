"""``python -m webex_events``: the ``webex-events`` command (same entry as the console script)."""

from ._cli_entry import main

if __name__ == "__main__":
    main()
