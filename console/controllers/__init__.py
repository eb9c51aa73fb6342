"""Plain objects the app owns: polling, navigation, actions, records (and the console state they keep)."""
