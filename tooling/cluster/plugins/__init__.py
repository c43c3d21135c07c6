"""Stand-ins for the Pulumi plugins the Go module proxy does not serve.

The proxy refuses (403 "This module version is not available") the Python language host
(``github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3``) and the random and docker
providers (``github.com/pulumi/pulumi-random/provider/v4``, ``github.com/pulumi/pulumi-docker/provider/v4``).
Each stand-in speaks the real plugin protocol (gRPC, from the Pulumi SDK's own generated stubs) to the
real engine, so state, ordering, secrets and diffs are the engine's; only what happens inside the plugin
is ours, and it is kept to what this program uses. Never shipped: the cluster test puts them on PATH.
"""
