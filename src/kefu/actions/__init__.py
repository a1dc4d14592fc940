"""Every state change: one function each. Each writes its rows and its typed events in one
transaction (see :mod:`kefu.actions.tx`); nothing outside this package records events."""
