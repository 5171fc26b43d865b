"""The workstation's modal dialogs, one module each: `<what>_dialog.py` holds `<What>Dialog`."""
