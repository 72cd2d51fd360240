"""``python -m docbin``: the same command line as ``docbin``."""

from docbin.cli import main

main()
