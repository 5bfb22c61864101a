"""Releases: make (database, exports, datapackage, notes, SHA256SUMS), verify, diff and download."""
