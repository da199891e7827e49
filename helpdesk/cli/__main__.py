"""``python -m helpdesk.cli``: the same as the ``helpdesk`` command."""

from helpdesk.cli import main

main()
