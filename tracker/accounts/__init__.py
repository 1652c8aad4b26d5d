"""Accounts: creating users, logging in with throttling, and who may do what."""
