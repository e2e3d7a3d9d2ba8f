"""Tests that run the deployable artefacts under moto (in-process AWS fakes)."""
