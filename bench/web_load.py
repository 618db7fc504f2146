"""Load check of the web app: 20 simulated coordinators browsing and acknowledging for a minute against a store
of 50,000 logbook entries, on 127.0.0.1 only; prints median and 95th-percentile page times and errors.

Usage: .venv/bin/python bench/web_load.py [--entries 50000] [--users 20] [--seconds 60] [--workdir DIR]

The store: entries recombining the sample corpus's sentences (as bench/pipeline.py makes them: 400 cases, dates
over 2024), ingested with qualpipe's own ingest, pseudonymised for outputs as earlier weeks leave a store.
Alerts are NOT made by the flagger (flagging 50k entries takes many minutes): about 4% of the entries get a
realistic alert inserted directly through the store layer, bench only (categories and severities in the
proportions the sample corpus's flagger gives, the entry's first sentence as evidence, one in five in the
check band), and every entry is marked as screened. The store is kept in --workdir and reused by the next run.

The server runs as its own process (`qualpipe serve`), the users are threads here with httpx: each logs in,
then until the minute is over (and at most 2,000 requests) opens the digest of one of the last 8 weeks
(50%), a case page (35%), or acknowledges an open alert it saw on its last digest page (15%), with 1-3 s
between clicks (people read longer; the pause keeps 20 users from being 20 tight loops); logins are spread
over the first 10 s. Two users may acknowledge the same alert: the second is told who was first, which is
counted, not an error. The store is first brought to the state earlier weeks leave: digests of 2024-W01 to
W44 built in order and 90% of their alerts handled (otherwise the first digest opened collects every alert
of the year); the browsed weeks W45-W52 are built for the first time during the run.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import synthetic_entries  # noqa: E402
from sample_corpus import new_project, sample_sentences, write_jsonl  # noqa: E402

from qualpipe.flagging.alerts import iso_week  # noqa: E402
from qualpipe.project import Project  # noqa: E402
from qualpipe.store import utc_now  # noqa: E402
from qualpipe.web.accounts import add_user  # noqa: E402
from qualpipe.web.background import ServeProcess  # noqa: E402

SEED = 20
PASSWORD = "belastning-test-1"
# (category, severity, share of alerts): roughly what the flagger raised on the sample logbooks
ALERTS = [("aflysning", "watch", 0.30), ("aflysning", "high", 0.08), ("mistrivsel", "watch", 0.2),
          ("konflikt", "high", 0.12), ("omsorgssvigt", "high", 0.12), ("vold_overgreb", "urgent", 0.1),
          ("selvskade", "urgent", 0.04), ("frivillig_belastning", "watch", 0.04)]


def earlier_weeks(root: Path, last: str = "2024-W44", handled: float = 0.9) -> None:
    """The store as earlier weeks leave it: the digest of every week up to `last` built in order, and most of
    the alerts each showed handled (the rest stay open, as urgent ones do until someone acts)."""
    started, picks = time.perf_counter(), random.Random(SEED)
    with Project(root) as project:
        weeks = sorted(w for w in project.logbook_weeks() if w <= last)
        for week in weeks:
            digest = project.weekly_digest(week)
            shown = [a.id for c in digest.cases for a in c.alerts] + [a.id for a in digest.check]
            done = [i for i in shown if picks.random() < handled]
            if done:
                project.acknowledge(done, by="tidligere koordinator", note="håndteret i en tidligere uge")
    print(f"digests of {len(weeks)} earlier weeks built and {handled:.0%} of their alerts handled "
          f"in {time.perf_counter() - started:.0f} s", flush=True)


def build_store(root: Path, entries: int, users: int) -> None:
    rng = np.random.default_rng(SEED)
    made = synthetic_entries(sample_sentences(), int(entries * 2.6), rng, "w")[:entries]
    source = write_jsonl(made, root.parent / "web-load-entries.jsonl")
    started = time.perf_counter()
    with new_project(root) as project:
        report = project.ingest([source], "logbook")
        print(f"ingested {report.added} entries in {time.perf_counter() - started:.0f} s", flush=True)
        docs = project.store.query("SELECT id, case_id, date, text FROM documents WHERE kind = 'logbook'")
        picks = random.Random(SEED)
        categories = [(c, s) for c, s, _ in ALERTS]
        weights = [w for _, _, w in ALERTS]
        now, rows = utc_now(), []
        for doc in docs:
            if picks.random() >= 0.04:
                continue
            category, severity = picks.choices(categories, weights)[0]
            end = doc["text"].find(".") + 1 or len(doc["text"])
            band = "check" if picks.random() < 0.2 and category in ("vold_overgreb", "selvskade") else "alert"
            rows.append((doc["id"], doc["case_id"], doc["date"], iso_week(doc["date"]), category, severity, severity,
                         doc["text"][:end], 0, end, "bench: inserted", now, band, ""))
        with project.store.transaction() as conn:  # bench only: alerts as the flagger would have stored them
            conn.executemany(
                "INSERT OR IGNORE INTO alerts (document_id, case_id, entry_date, week, category, base_severity, "
                "severity, evidence, start, end, fired_by, created_at, band, reason) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows)
            conn.execute("INSERT OR IGNORE INTO flagged_documents (document_id, flagged_at) "
                         "SELECT id, 'bench' FROM documents WHERE kind = 'logbook'")
        print(f"{len(rows)} alerts inserted; pseudonymising every case for outputs …", flush=True)
        project.pseudonyms().warm([r[0] for r in project.store.query("SELECT case_id FROM cases")])
        for n in range(1, users + 1):
            add_user(project.store, f"koordinator{n:02d}", PASSWORD, "coordinator")
    print(f"store ready in {time.perf_counter() - started:.0f} s", flush=True)


class User(threading.Thread):
    def __init__(self, name: str, url: str, weeks: list[str], cases: list[str], deadline: float, seed: int):
        super().__init__(name=name, daemon=True)
        self.user, self.url, self.weeks, self.cases, self.deadline = name, url, weeks, cases, deadline
        self.rng = random.Random(seed)
        self.times: dict[str, list[float]] = {"digest": [], "case": [], "ack": [], "login": []}
        self.errors: list[str] = []
        self.conflicts = 0
        self.open_alerts: list[str] = []
        self.csrf = ""
        self.week = weeks[0]

    def timed(self, kind: str, method: str, path: str, client: httpx.Client, **kwargs) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.errors.append(f"{kind}: {type(exc).__name__}")
            return None
        self.times[kind].append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            self.errors.append(f"{kind}: HTTP {response.status_code}")
        return response

    def run(self) -> None:
        time.sleep(self.rng.uniform(0, 10))  # people do not all log in in the same second
        with httpx.Client(base_url=self.url, timeout=30, follow_redirects=True) as client:
            form = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
            self.timed("login", "POST", "/login", client,
                       data={"name": self.user, "password": PASSWORD, "csrf_token": token})
            for _ in range(2000):
                if time.monotonic() > self.deadline:
                    break
                choice = self.rng.random()
                if choice < 0.15 and self.open_alerts:
                    self.acknowledge(client)
                elif choice < 0.5:
                    page = self.timed("case", "GET", f"/cases/{self.rng.choice(self.cases)}", client)
                else:
                    self.week = self.rng.choice(self.weeks)
                    page = self.timed("digest", "GET", f"/?week={self.week}", client)
                    if page is not None and page.status_code == 200:
                        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
                        self.open_alerts = re.findall(r'<article class="alert" id="alert-(\d+)"', page.text)
                time.sleep(self.rng.uniform(1.0, 3.0))

    def acknowledge(self, client: httpx.Client) -> None:
        alert = self.open_alerts.pop(self.rng.randrange(len(self.open_alerts)))
        page = self.timed("ack", "POST", f"/alerts/{alert}/ack", client,
                          data={"note": "talt med familien", "week": self.week, "csrf_token": self.csrf})
        if page is not None and "allerede håndteret af" in page.text:
            self.conflicts += 1


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qualpipe-web-load"))
    parser.add_argument("--rebuild", action="store_true", help="Build the store again even if one is there.")
    parser.add_argument("--workers", type=int, default=1, help="qualpipe serve --workers (server processes).")
    args = parser.parse_args()
    os.environ.setdefault("XDG_DATA_HOME", str(args.workdir / "keys"))
    root = args.workdir / f"store-{args.entries}"
    if args.rebuild:
        shutil.rmtree(root, ignore_errors=True)
    if not (root / "qualpipe.toml").exists():
        shutil.rmtree(root, ignore_errors=True)
        args.workdir.mkdir(parents=True, exist_ok=True)
        build_store(root, args.entries, args.users)
    with Project(root) as project:
        fresh = not project.store.query("SELECT 1 FROM digests LIMIT 1")
    if fresh:
        earlier_weeks(root)
    run = args.workdir / "run"  # every run starts from the same store: no digest built, no alert handled
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(root, run)
    with Project(run) as project:
        weeks = [w for w in project.logbook_weeks() if w.startswith("2024")][:8]
        cases = project.case_ids()
        status = project.status()
        alerts = project.store.query("SELECT COUNT(*) FROM alerts")[0][0]
    print(f"store: {status.documents.get('logbook', 0)} entries, {status.segments} segments, {alerts} alerts, "
          f"{len(cases)} cases; weeks browsed: {', '.join(weeks)}", flush=True)
    with ServeProcess(run, workers=args.workers) as served:
        url = served.url
        deadline = time.monotonic() + args.seconds
        users = [User(f"koordinator{n:02d}", url, weeks, cases, deadline, SEED + n) for n in range(1, args.users + 1)]
        started = time.perf_counter()
        for user in users:
            user.start()
        for user in users:
            user.join(timeout=args.seconds + 120)
        took = time.perf_counter() - started
    log = served.log
    everything = [t for u in users for kind in ("digest", "case", "ack") for t in u.times[kind]]
    print(f"{args.users} users for {took:.0f} s: {len(everything)} page requests "
          f"({len(everything) / took:.1f}/s), {sum(len(u.errors) for u in users)} error(s), "
          f"{sum(u.conflicts for u in users)} acknowledgement(s) told 'allerede håndteret'")
    print(f"{'kind':<8} {'n':>6} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for kind in ("digest", "case", "ack", "login"):
        values = [t for u in users for t in u.times[kind]]
        print(f"{kind:<8} {len(values):>6} {statistics.median(values) if values else float('nan'):>10.1f} "
              f"{percentile(values, 95):>8.1f} {max(values, default=float('nan')):>8.1f}")
    print(f"{'pages':<8} {len(everything):>6} {statistics.median(everything):>10.1f} "
          f"{percentile(everything, 95):>8.1f} {max(everything):>8.1f}")
    errors = sorted({e for u in users for e in u.errors})
    if errors:
        print("errors:", "; ".join(errors))
    leaked = [line for line in log.splitlines() if "week=" in line or "koordinator" in line or "S0" in line]
    print(f"server log: {len(log.splitlines())} lines, {len(leaked)} with a query string, user or case id")


if __name__ == "__main__":
    main()
