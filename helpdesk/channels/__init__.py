"""The ways mail and messages come in and go out (email first); pure parsing lives here too."""
