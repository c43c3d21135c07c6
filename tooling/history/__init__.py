"""A stack's deploy history (``python -m tooling.history``) and the rollback to one of its deploys."""
