#!/usr/bin/env python
"""`python build.py ...` is `taskshift build ...`: build the database from the raw sources."""
import sys

from taskshift.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
