"""Allow ``python -m segchain``."""

from segchain.cli import main

main()
