"""Tests of mdtheory.sampling."""
