"""LabourLab: an agent-based simulation of local labour markets in England under two regimes."""

__version__ = "0.1.0"
