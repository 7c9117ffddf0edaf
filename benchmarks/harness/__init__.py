"""The benchmark harness behind benchmarks/run.py."""
