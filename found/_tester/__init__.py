"""found's implementation of FoundationDB's binding-tester stack machine.

FoundationDB's ``bindingtester.py`` writes a stream of instructions into the
database and runs a tester on it; the tester executes them with the binding
under test and logs what it saw back into the database, where the
bindingtester compares it, byte for byte, with the official Python tester's
log (``bindings/bindingtester/spec/bindingApiTester.md``).  This package is
that tester for found, written on found's public API only.  Two front ends
share it: ``found.tester_aio`` (each START_THREAD an asyncio task on one
loop) and ``found.tester_pthread`` (each START_THREAD an OS thread with its
own event loop, all sharing one database).  docs/testers.md says more.
"""
