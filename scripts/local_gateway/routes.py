"""The routes: the HttpApi events of template.yaml's functions, and the route a
request takes (a specific method over ANY; a literal segment over a {param}, a
{param} over a {greedy+})."""

from __future__ import annotations

import dataclasses
import sys
import tomllib
import urllib.parse
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - reported once, at start
    sys.exit("gateway: PyYAML is missing; run with .tools/venv/bin/python (scripts/tools.sh installs it)")


class TemplateError(Exception):
    pass


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...)."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    # The value is kept as {"!Tag": value}: routes never depend on it.
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"!" + suffix: value}


_TemplateLoader.add_multi_constructor("!", _any_tag)


@dataclasses.dataclass(frozen=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # "/subscriptions/{serial}/upgrade", or "" for $default
    function: str  # the binary watch knows the function by
    segments: tuple[tuple[str, str], ...]  # ("lit", text) | ("param", name) | ("greedy", name)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}" if self.path else "$default"

    def match(self, raw_segments: list[str]) -> dict[str, str] | None:
        """Path parameters (decoded) when the request path matches, else None."""
        params: dict[str, str] = {}
        for i, (kind, text) in enumerate(self.segments):
            if kind == "greedy":
                rest = raw_segments[i:]
                if not rest or rest == [""]:
                    return None
                params[text] = urllib.parse.unquote("/".join(rest))
                return params
            if i >= len(raw_segments):
                return None
            seg = raw_segments[i]
            if kind == "lit":
                if urllib.parse.unquote(seg) != text:
                    return None
            else:
                if seg == "":
                    return None
                params[text] = urllib.parse.unquote(seg)
        return params if len(raw_segments) == len(self.segments) else None

    def rank(self) -> tuple:
        """Higher is more specific: literal > {param} > {greedy+}, segment by segment,
        then a specific method over ANY."""
        weight = {"lit": 2, "param": 1, "greedy": 0}
        return (tuple(weight[k] for k, _ in self.segments), self.method != "ANY")


def _segments(path: str) -> tuple[tuple[str, str], ...]:
    out = []
    parts = path.split("/")[1:]
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name.endswith("+"):
                if i != len(parts) - 1:
                    raise TemplateError(f"greedy path variable not at the end of {path}")
                out.append(("greedy", name[:-1]))
            else:
                out.append(("param", name))
        else:
            out.append(("lit", part))
    return tuple(out)


def _function_name(logical_id: str, resource: dict, code_uri_default, template_dir: Path) -> str:
    """The cargo binary of a function, as `sam build` (BuildMethod rust-cargolambda) picks it."""
    props = (resource.get("Metadata") or {}).get("BuildProperties") or {}
    binary = props.get("Binary")
    if isinstance(binary, str) and binary:
        return binary
    code_uri = (resource.get("Properties") or {}).get("CodeUri", code_uri_default)
    if isinstance(code_uri, str):
        manifest = template_dir / code_uri / "Cargo.toml"
        if manifest.is_file():
            cargo = tomllib.loads(manifest.read_text(encoding="utf-8"))
            bins = [b.get("name") for b in cargo.get("bin", []) if b.get("name")]
            if len(bins) == 1:
                return bins[0]
            name = (cargo.get("package") or {}).get("name")
            if isinstance(name, str) and name and not bins:
                return name
    raise TemplateError(
        f"{logical_id}: cannot tell its cargo binary (no Metadata.BuildProperties.Binary, "
        f"and CodeUri {code_uri!r} is not a package with one binary)"
    )


def load_routes(template_path: Path) -> list[Route]:
    try:
        doc = yaml.load(template_path.read_text(encoding="utf-8"), Loader=_TemplateLoader)
    except (OSError, yaml.YAMLError) as e:
        raise TemplateError(f"cannot read {template_path}: {e}") from e
    if not isinstance(doc, dict):
        raise TemplateError(f"{template_path} is not a template")
    code_uri_default = (((doc.get("Globals") or {}).get("Function")) or {}).get("CodeUri")
    routes: list[Route] = []
    seen: dict[str, str] = {}
    for logical_id, res in (doc.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Serverless::Function":
            continue
        events = (res.get("Properties") or {}).get("Events") or {}
        http_events = [
            (name, ev.get("Properties") or {})
            for name, ev in events.items()
            if isinstance(ev, dict) and ev.get("Type") == "HttpApi"
        ]
        if not http_events:
            continue
        function = _function_name(logical_id, res, code_uri_default, template_path.parent)
        for ev_name, p in http_events:
            method, path = p.get("Method"), p.get("Path")
            if method is None and path is None:
                route = Route("ANY", "", function, ())  # SAM's $default route
            elif isinstance(method, str) and isinstance(path, str) and path.startswith("/"):
                m = method.upper()
                route = Route(m, path, function, _segments(path))
            else:
                raise TemplateError(f"{logical_id}.Events.{ev_name}: Method and Path must both be given")
            if route.key in seen and seen[route.key] != function:
                raise TemplateError(f"route {route.key} given to both {seen[route.key]} and {function}")
            if route.key not in seen:
                seen[route.key] = function
                routes.append(route)
    if not routes:
        raise TemplateError(f"{template_path} declares no HttpApi routes")
    return routes


def find_route(routes: list[Route], method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    raw_segments = raw_path.split("/")[1:]
    best = None
    for r in routes:
        if not r.path or (r.method != "ANY" and r.method != method):
            continue
        params = r.match(raw_segments)
        if params is not None and (best is None or r.rank() > best[0].rank()):
            best = (r, params)
    if best is None:
        default = next((r for r in routes if not r.path), None)
        if default is not None:
            return default, {}
    return best
