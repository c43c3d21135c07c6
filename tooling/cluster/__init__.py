"""The real-cluster harness (``bash .ci/cluster-test``): a single-node Kubernetes on this machine, the
real ``pulumi up`` of a stack onto it, and the checks that judge the result from outside.

Tooling only: nothing in ``pulumi up`` imports this package.
"""
