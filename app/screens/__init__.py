"""The workstation's screens, one module each."""
