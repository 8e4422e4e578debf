"""Analyses on labelled data: functions are the source of truth."""
