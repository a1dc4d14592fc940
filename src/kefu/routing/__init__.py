"""Routing policies as plain functions over plain data: business hours, rules, the queue's
order, the choice of an agent, the expected wait, language detection. The actions in
:mod:`kefu.actions.routing` load the data, call these, and write the outcome."""
