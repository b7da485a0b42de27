"""Tests of mdtheory.exact."""
