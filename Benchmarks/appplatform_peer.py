"""What a dashboard needs from App Platform, the way pydo 0.44.0 gets it with its defaults:
every app over every page of apps.list, then each app's first page of deployments (its current
phase and latest deployment). Prints one JSON line: apps seen, seconds."""
import json
import sys
import time
from urllib.parse import parse_qs, urlparse

import pydo

origin, token = sys.argv[1], sys.argv[2]
client = pydo.Client(token=token, endpoint=origin)
# The sandbox is plain http on loopback; azure-core refuses bearer tokens there unless told.
start = time.monotonic()
apps, page = [], 1
while True:
    answer = client.apps.list(page=page, enforce_https=False)
    apps += answer.get("apps", [])
    following = answer.get("links", {}).get("pages", {}).get("next")
    if not following:
        break
    page = int(parse_qs(urlparse(following).query)["page"][0])
latest = {}
for app in apps:
    deployments = client.apps.list_deployments(app_id=app["id"], enforce_https=False).get("deployments", [])
    latest[app["id"]] = deployments[0]["phase"] if deployments else None
seconds = time.monotonic() - start
print(json.dumps({"client": "pydo 0.44.0", "apps": len(apps), "with_phase": sum(1 for p in latest.values() if p), "seconds": seconds}, sort_keys=True))
