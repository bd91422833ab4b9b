"""Benchmarks for coopgov (`make bench`): gRPC throughput/latency against a bare baseline,
outbox event latency commit -> consumer, and the CSV member import. See bench/run.py."""
