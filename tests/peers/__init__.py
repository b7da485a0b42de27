"""Tests of mdtheory.peers."""
