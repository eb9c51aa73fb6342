"""Everything that talks to the outside world. Never imports textual."""
