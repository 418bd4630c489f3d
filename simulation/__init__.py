"""Seeded randomized workloads with fault injection for found.

A test bench in the spirit of FoundationDB's deterministic simulation, aimed at
application code: client processes run workloads (Cycle, Bank, Counter, ...)
against the embedded engine or a real cluster while the engine injects
retryable errors, ambiguous commits and latency, and the harness kills and
restarts clients; every workload then checks its invariant. Entry point:
``python -m simulation`` (see docs/simulation.md).
"""
