"""Jobs that compose loaders/datasets, models, analyses, figures and reports.

Loaders, models and analyses never import each other; the jobs that need all
of them live here (and the CLI calls them).
"""
