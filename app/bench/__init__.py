"""The benchmarks behind `showdesk bench scan|lookup|sync|lineup|ui|door`.

Each module measures one thing and returns a plain dict (its figures and a baseline from the
same run); `app.cli.bench` prints it: ``--json`` as one JSON document, else as a table
(:func:`app.bench.stats.format_table`). Percentiles come from one function
(:func:`app.domain.stats.percentile`). This package sits on top: it may import every layer,
no layer imports it.
"""
