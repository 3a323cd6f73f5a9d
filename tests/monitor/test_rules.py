"""monitoring/: the alert rules pass ``promtool check rules`` and their unit tests (``promtool test rules``), the
tests catch a changed rule, the scrape configuration passes ``promtool check config``, and the dashboard is a
Grafana dashboard whose every panel has a query (run against a real Prometheus in test_monitor_lab.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.monitor.helpers import ROOT, promtool

MONITORING = ROOT / "monitoring"
ALERTS = ("NxgovExporterDown", "NxgovCacheStale", "NxgovCloudNodeDown", "NxgovSourceDown", "NxgovQuotaAbove90Percent",
          "NxgovExtranetPlaneDown", "NxgovExtranetSiteDown", "NxgovMigrationDeadlineAtRisk", "NxgovAuditChainBroken",
          "NxgovBackupRpoBreached", "NxgovBackupDrillOverdue", "NxgovBackupCopyCorrupt")


def test_rules_check_and_every_alert_has_a_unit_test_that_fires_and_one_that_stays_quiet() -> None:
    checked = promtool("check", "rules", "alerts.yml", cwd=MONITORING)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text(encoding="utf-8"))
    assert [r["alert"] for g in rules["groups"] for r in g["rules"]] == list(ALERTS)
    tests = yaml.safe_load((MONITORING / "alerts_test.yml").read_text(encoding="utf-8"))["tests"]
    for alert in ALERTS:
        cases = [c for t in tests for c in t["alert_rule_test"] if c["alertname"] == alert]
        assert any(c["exp_alerts"] for c in cases), f"{alert}: no test where it fires"
        assert any(not c["exp_alerts"] for c in cases), f"{alert}: no test where it stays quiet"
    ran = promtool("test", "rules", "alerts_test.yml", cwd=MONITORING)
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_the_unit_tests_catch_a_changed_threshold(tmp_path: Path) -> None:
    shutil.copy(MONITORING / "alerts_test.yml", tmp_path)
    text = (MONITORING / "alerts.yml").read_text(encoding="utf-8")
    (tmp_path / "alerts.yml").write_text(text.replace("nxgov_cloud_quota_usage_ratio > 0.9",
                                                      "nxgov_cloud_quota_usage_ratio > 0.96"), encoding="utf-8")
    ran = promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert ran.returncode != 0 and "NxgovQuotaAbove90Percent" in ran.stdout + ran.stderr


def test_the_scrape_configuration_checks() -> None:
    checked = promtool("check", "config", "prometheus.yml", cwd=MONITORING)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expression) of every query of the Grafana dashboard."""
    document = json.loads((MONITORING / "grafana" / "nxgov-region.json").read_text(encoding="utf-8"))
    return [(panel["title"], target["expr"]) for panel in document["panels"] for target in panel.get("targets", [])]


def test_the_dashboard_is_grafana_json_with_a_query_in_every_panel() -> None:
    document = json.loads((MONITORING / "grafana" / "nxgov-region.json").read_text(encoding="utf-8"))
    assert document["uid"] == "nxgov-region" and document["schemaVersion"] >= 36
    panels = [p for p in document["panels"] if p["type"] != "row"]
    assert all(p.get("targets") for p in panels), "every panel has a query"
    assert len({p["id"] for p in document["panels"]}) == len(document["panels"])
    queried = " ".join(expr for _, expr in dashboard_queries())
    for family in ("nxgov_cloud_vcpus", "nxgov_cloud_quota_usage_ratio", "nxgov_migration_cloud_ratio",
                   "nxgov_extranet_plane_up", "nxgov_audit_chain_intact", "nxgov_up", "nxgov_backup_rpo_met"):
        assert family in queried, f"the dashboard does not show {family}"
