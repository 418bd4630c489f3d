"""Stores built on the found driver: each keeps its keys under a tuple prefix.

- ``bstore``: content-addressed blobs of any size;
- ``nstore``: n-tuples with pattern-matching queries;
- ``eavstore``: dictionaries with an attribute-value index;
- ``pstore``: an inverted index for keyword search;
- ``pool``: fan work out to a thread pool, streaming results back;
- ``vnstore``: versioned n-tuples (a package of its own).
"""
