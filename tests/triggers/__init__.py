"""Tests of the trigger runners (local subprocesses and a loopback HTTP server)."""
