"""Monte-Carlo experiment drivers (thin layers over mdtheory)."""
