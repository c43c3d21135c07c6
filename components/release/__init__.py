"""The official chart, pinned, and the values the program gives it."""
