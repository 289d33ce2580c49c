"""rustorch's benchmarks against torch; ``python -m benches`` runs them all (see README.md)."""
