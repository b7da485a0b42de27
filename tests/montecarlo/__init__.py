"""Tests of mdtheory.montecarlo."""
