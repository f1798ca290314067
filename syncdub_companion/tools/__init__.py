"""Wrappers around external programs: one module per program, every call through process.run."""
