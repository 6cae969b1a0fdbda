"""`python -m qa`: the qa command."""

from .cli import main

main(prog_name="qa")
