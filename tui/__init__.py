"""``interlock-tui``: the on-call console (Textual). It talks to Interlock only through :mod:`interlock.api`."""
