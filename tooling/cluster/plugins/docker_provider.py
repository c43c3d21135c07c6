"""A stand-in for ``pulumi-resource-docker``: ``docker.Image``, built by the Docker CLI with the classic
builder (Debian 12 has no buildx) and pushed, the digest the registry answered becoming ``repoDigest``.

As the real provider's Image (v4 and later), nothing is built in a preview (``buildOnPreview`` off) and a
changed input is an in-place update that builds and pushes again; the image name carries the content tag
(``dags/delivery.py``), so a DAG edit is exactly one such update. Left out: buildx-only options
(``cacheFrom``, ``builderVersion: BuilderBuildKit``), ``buildOnPreview``, deleting the pushed image.
"""

from __future__ import annotations

import os
import re
import subprocess

from tooling.cluster.plugins.provider import Properties, Resource, StandInProvider, has_unknowns, run

VERSION = "5.2.0"  # what requirements.txt's pulumi-docker asks the engine for
_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def _docker(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["docker", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=os.environ | {"DOCKER_BUILDKIT": "0"},
        check=False,
    )
    if done.returncode != 0:
        # The last lines say what failed; the password went on stdin and is not in them.
        raise RuntimeError(
            f"docker {args[0]} failed: {done.stderr.strip()[-2000:] or done.stdout.strip()[-2000:]}"
        )
    return done.stdout


def _repository(image_name: str) -> str:
    name = image_name.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


class Image(Resource):
    """``docker:index/image:Image``: builds with the machine's Docker engine and pushes to the loopback
    registry; the outputs the program reads (``repoDigest``)."""

    replace_on = frozenset()

    def check(self, news: Properties) -> tuple[Properties, list[tuple[str, str]]]:
        if not news.get("imageName"):
            return news, [("imageName", "is required")]
        return news, []

    def create(self, inputs: Properties, preview: bool) -> tuple[str, Properties]:
        outputs = self._build(inputs, preview)
        return outputs.get("imageName", ""), outputs

    def update(self, olds: Properties, news: Properties, preview: bool) -> Properties:
        return self._build(news, preview)

    def _build(self, inputs: Properties, preview: bool) -> Properties:
        build = inputs.get("build") or {}
        outputs = dict(inputs)
        outputs["context"] = build.get("context", ".")
        outputs["dockerfile"] = build.get("dockerfile", os.path.join(outputs["context"], "Dockerfile"))
        outputs["platform"] = build.get("platform")
        outputs["baseImageName"] = inputs["imageName"]
        registry = inputs.get("registry") or {}
        outputs["registryServer"] = registry.get("server")
        if preview or has_unknowns(inputs):
            return outputs
        image_name = inputs["imageName"]
        command = ["build", "--network", "host", "-f", outputs["dockerfile"], "-t", image_name]
        if outputs["platform"]:
            command += ["--platform", outputs["platform"]]
        for name, value in sorted((build.get("args") or {}).items()):
            command += ["--build-arg", f"{name}={value}"]
        if build.get("target"):
            command += ["--target", build["target"]]
        _docker(*command, outputs["context"])
        if not inputs.get("skipPush"):
            if registry.get("username") and registry.get("password"):
                _docker(
                    "login",
                    "--username",
                    registry["username"],
                    "--password-stdin",
                    registry["server"],
                    stdin=registry["password"],
                )
            pushed = _DIGEST.search(_docker("push", image_name))
            if pushed is None:
                raise RuntimeError(f"docker push {image_name} printed no digest")
            outputs["repoDigest"] = f"{_repository(image_name)}@{pushed.group(1)}"
        return outputs


PROVIDER = StandInProvider("docker", VERSION, {"docker:index/image:Image": Image()})

if __name__ == "__main__":
    run(PROVIDER)
