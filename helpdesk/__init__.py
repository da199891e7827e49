"""Helpdesk: an omnichannel customer-service desk, Vietnamese and English first."""

__version__ = "0.1.0"
