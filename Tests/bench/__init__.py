"""The drain benchmark: `python3 -m Tests bench` (see Tests/bench/bench.py)."""
