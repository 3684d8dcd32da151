"""The Grafana dashboard and the Prometheus alert rules in deploy/ name our metrics exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from tests.service.conftest import Service

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\b(tiktok_[a-z_]+)\b")
SUFFIXES = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def exposed_series(metrics_text: str) -> set[str]:
    """Every series name a scrape of /metrics can carry, from its # TYPE lines."""
    names: set[str] = set()
    for line in metrics_text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.update(name + suffix for suffix in SUFFIXES.get(kind, ("",)))
    return names


def expressions(node: Any) -> list[str]:
    """Every `expr` (and Grafana's variable `query`) in a parsed YAML/JSON document."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(expressions(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(expressions(item))
    return found


async def test_dashboard_and_alerts_name_only_metrics_we_expose(service: Service) -> None:
    """Each metric in deploy/grafana/tiktok-ads.json and deploy/prometheus/alerts.yml is in
    our /metrics output; both files parse."""
    exposed = exposed_series((await service.http.get("/metrics")).text)
    dashboard = json.loads((DEPLOY / "grafana" / "tiktok-ads.json").read_text())
    alerts = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    for document in (dashboard, alerts):
        used = {name for expr in expressions(document) for name in METRIC.findall(expr)}
        assert used, "no metric named"
        assert set() == used - exposed
    rules = [rule["alert"] for group in alerts["groups"] for rule in group["rules"]]
    assert {"TikTokDeliveriesFailing", "TikTokQueueGrowing", "TikTokConnectionHeld"} <= set(rules)


def test_the_check_catches_a_misspelt_metric() -> None:
    """The name check above would fail on a name we do not expose."""
    exposed = exposed_series("# TYPE tiktok_request_seconds histogram\n")
    used = set(METRIC.findall("rate(tiktok_request_seconds_bucket[5m]) + tiktok_queue_dpeth"))
    assert {"tiktok_queue_dpeth"} == used - exposed
