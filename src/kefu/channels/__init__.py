"""Messenger channels: one adapter module per provider, behind the contract in ``base``."""
