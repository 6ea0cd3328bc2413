"""`emolabel report`: what an annotate output says, as one offline HTML page and figures.

sources (open the output lazily) -> aggregate (streaming polars queries) -> charts (SVG)
-> html (the document); build.py ties them together for the CLI and Python callers.
"""
