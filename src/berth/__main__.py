"""`python -m berth` is the `berth` command."""

from .cli import main

main()
