"""Reads CSV from stdin with Python's standard csv module and prints its rows as JSON objects
(header row as keys): an accounting tool's view of the reconciliation CSV."""

import csv
import json
import sys

rows = list(csv.DictReader(sys.stdin, strict=True))
json.dump(rows, sys.stdout)
