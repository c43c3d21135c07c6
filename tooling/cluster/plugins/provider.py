"""What every stand-in resource provider shares: the protocol's bookkeeping, properties as plain dicts,
and one ``Resource`` per type token that says how to check, diff, create and update it."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from tooling.cluster.plugins.serve import serve

# How the engine marks a value it does not know yet (in previews).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

Properties = dict[str, Any]


def to_dict(struct: struct_pb2.Struct) -> Properties:
    """A gRPC Struct as plain Python values."""
    return json_format.MessageToDict(struct)


def to_struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    """Plain Python values as a gRPC Struct."""
    struct = struct_pb2.Struct()
    struct.update({key: value for key, value in properties.items() if value is not None})
    return struct


def has_unknowns(value: Any) -> bool:
    """Whether a preview's inputs hold values not known yet (the engine's unknown marker)."""
    if isinstance(value, dict):
        return any(has_unknowns(item) for item in value.values())
    if isinstance(value, list):
        return any(has_unknowns(item) for item in value)
    return value == UNKNOWN


class Resource:
    """One resource type. ``replace_on`` names the inputs whose change replaces the resource; any other
    changed input is an update."""

    replace_on: frozenset[str] = frozenset()

    def check(self, news: Properties) -> tuple[Properties, list[tuple[str, str]]]:
        """Inputs with defaults applied, and (property, reason) failures."""
        return news, []

    def create(self, inputs: Properties, preview: bool) -> tuple[str, Properties]:
        raise NotImplementedError

    def update(self, olds: Properties, news: Properties, preview: bool) -> Properties:
        """An in-place change keeps what was made: the new inputs over the old outputs."""
        return olds | news


class StandInProvider(provider_pb2_grpc.ResourceProviderServicer):
    """The ResourceProvider gRPC protocol for a few resource types: each method implements the
    protocol's method of the same name."""

    def __init__(self, name: str, version: str, resources: Mapping[str, Resource]) -> None:
        self._name = name
        self._version = version
        self._resources = resources

    def _resource(self, urn: str, context: grpc.ServicerContext) -> Resource:
        token = urn.split("::")[-2].split("$")[-1]
        resource = self._resources.get(token)
        if resource is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the {self._name} stand-in has no {token}")
        return resource

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=self._version)

    def GetSchema(self, request, context):
        return provider_pb2.GetSchemaResponse(
            schema=f'{{"name": "{self._name}", "version": "{self._version}"}}'
        )

    def CheckConfig(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request, context):
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request, context):
        # Secrets stay the engine's business: it strips them before calling and marks the outputs.
        return provider_pb2.ConfigureResponse(acceptSecrets=False, supportsPreview=True)

    def Check(self, request, context):
        inputs, failures = self._resource(request.urn, context).check(to_dict(request.news))
        return provider_pb2.CheckResponse(
            inputs=to_struct(inputs),
            failures=[provider_pb2.CheckFailure(property=p, reason=r) for p, r in failures],
        )

    def Diff(self, request, context):
        resource = self._resource(request.urn, context)
        olds = to_dict(request.old_inputs) if request.HasField("old_inputs") else to_dict(request.olds)
        news = to_dict(request.news)
        ignored = set(request.ignoreChanges)
        changed = sorted(
            key for key in olds.keys() | news.keys() if key not in ignored and olds.get(key) != news.get(key)
        )
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME,
            diffs=changed,
            replaces=[key for key in changed if key in resource.replace_on],
        )

    def Create(self, request, context):
        resource = self._resource(request.urn, context)
        try:
            id_, outputs = resource.create(to_dict(request.properties), request.preview)
        except RuntimeError as err:
            context.abort(grpc.StatusCode.UNKNOWN, str(err))
        return provider_pb2.CreateResponse(id=id_, properties=to_struct(outputs))

    def Read(self, request, context):
        # Nothing lives outside the state that could drift: what was stored is what there is.
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Update(self, request, context):
        resource = self._resource(request.urn, context)
        try:
            outputs = resource.update(to_dict(request.olds), to_dict(request.news), request.preview)
        except RuntimeError as err:
            context.abort(grpc.StatusCode.UNKNOWN, str(err))
        return provider_pb2.UpdateResponse(properties=to_struct(outputs))

    def Delete(self, request, context):
        return empty_pb2.Empty()

    def Cancel(self, request, context):
        return empty_pb2.Empty()


def run(provider: StandInProvider) -> None:
    """Serves ``provider`` as the engine expects a plugin to: prints its port, serves until killed."""
    del sys.argv[1:]  # the engine's address; this provider never calls back
    serve(lambda server: provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider, server))
