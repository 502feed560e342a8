"""Where events live: JSON Lines files and the SQL database."""
