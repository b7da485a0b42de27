"""Tests of mdtheory.figures."""
