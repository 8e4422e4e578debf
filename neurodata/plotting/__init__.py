"""Figures for every analysis result, one module per kind of result.

Imported lazily: nothing here is imported by ``import neurodata``; each
function imports matplotlib itself and returns the `matplotlib.figure.Figure`.
"""
