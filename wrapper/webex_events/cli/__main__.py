"""``python -m webex_events.cli``: the ``webex-events`` command (same entry as the console script)."""

from webex_events._cli_entry import main

if __name__ == "__main__":
    main()
