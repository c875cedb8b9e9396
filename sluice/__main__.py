"""``python -m sluice``: the command line, for when the ``sluice`` script is not on PATH."""

from sluice.cli.main import main

main()
