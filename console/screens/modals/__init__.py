"""Modal screens: the guard, help, replay prompt, incidents and notes."""
