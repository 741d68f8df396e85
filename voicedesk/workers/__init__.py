"""QThread workers and the GUI-facing objects that drive them."""
