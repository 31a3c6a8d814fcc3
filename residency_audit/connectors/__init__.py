"""Connectors: each turns one cloud's APIs into `Task`s that yield resources and skips."""
