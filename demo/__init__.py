"""`make demo`: a realistic estate on local AWS, Azure and Google Cloud endpoints, audited by the real CLI.

``python -m demo`` starts the test servers of ``tests/servers`` in this process, seeds them (:mod:`demo.estate`), runs
the installed ``residency-audit`` against them with credentials that reach only those servers, writes the reports and
stops every server again. Nothing here ever talks to a real cloud.
"""
