"""Routing: which team and agent a case goes to."""
