"""Benchmarks and tuning of csto-qa: tooling, not shipped with the package.

The product (``csto_qa``) never imports this package (an import-linter contract in
pyproject.toml checks it). Run from the checkout after ``pip install -e ".[test]"``:

    python -m benchmarks.bench                      # this corpus: query stages, build, start-up, memory
    python -m benchmarks.scale 1k 10k 100k 1M       # retrieval on synthetic corpora of N passages
    python -m benchmarks.loadtest --clients 16 --seconds 60   # the app's API under concurrent clients
    python -m benchmarks.tune                       # the sweep behind the engine's defaults

Shared pieces have one owner each: :mod:`benchmarks.processes` (free ports, child processes,
their memory, the app server), :mod:`benchmarks.measure` (query stage timings through
``Engine.ask`` and ``Answer.timings_ms``, summaries, machine info, JSON results) and
:mod:`benchmarks.options` (the options they share, their checks, ``main``).
"""
