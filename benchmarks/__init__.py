"""Benchmarks for the aligner: a dub-pair corpus with exact truth, accuracy, speed and a peer.

- :mod:`benchmarks.corpus` builds pairs (``build_pair``, ``CASES``);
- :mod:`benchmarks.evaluate` scores a time map against a pair's truth;
- ``python -m benchmarks.align_accuracy`` and ``python -m benchmarks.align_speed`` run them;
- :mod:`benchmarks.peer` runs describealign on the same pairs.

Nothing here is part of the installed package; generated media goes to ``benchmarks/out/``.
"""
