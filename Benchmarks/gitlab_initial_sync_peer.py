"""The GitLab initial-sync peer (issue 23): python-gitlab 8.6.0 with its defaults listing the
projects the user is a member of and each project's branches with their head commits' dates —
what a dashboard shows — against the sandbox's GitLab personality, its limits off.
Usage: python3 gitlab_initial_sync_peer.py WEB_URL TOKEN  → one JSON line on stdout."""
import json
import sys
import time

import gitlab

web, token = sys.argv[1], sys.argv[2]
client = gitlab.Gitlab(web, private_token=token)
start = time.time()
namespaces, projects, branches = set(), 0, 0
for project in client.projects.list(membership=True, iterator=True):
    namespaces.add(project.namespace["full_path"])
    projects += 1
    for branch in project.branches.list(iterator=True):
        branches += 1
        # The branch listing carries the head commit: its date costs nothing more.
        _ = branch.commit["committed_date"]
print(json.dumps({"client": "python-gitlab 8.6.0", "seconds": time.time() - start, "workspaces": len(namespaces),
                  "repositories": projects, "branches": branches}, sort_keys=True))
