"""Tests of syncmanager_client against a real manager (see support.py for the environment)."""
