"""Command-line edge: parse input, call a domain package, render output."""
