"""Argo tracker: stores signals idempotently and reports on their outcomes."""
