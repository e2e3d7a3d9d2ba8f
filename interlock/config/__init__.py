"""Pipeline configuration: models, loader and named calendars."""

from __future__ import annotations

from interlock.config.models import Calendar, PipelineConfig, Rule, Validation

__all__ = ["Calendar", "PipelineConfig", "Rule", "Validation"]
