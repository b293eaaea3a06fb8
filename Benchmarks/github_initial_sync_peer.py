"""The GitHub initial-sync peer (issue 22): PyGithub 2.10.0 listing every repository the token can
read, every branch, and each branch head's commit date — what a dashboard shows — against the
sandbox's GitHub personality, with its throttling off and 100 items a page.
Usage: python3 github_initial_sync_peer.py API_URL TOKEN  → one JSON line on stdout."""
import json
import sys
import time

from github import Auth, Github

api, token = sys.argv[1], sys.argv[2]
client = Github(base_url=api, auth=Auth.Token(token), per_page=100, seconds_between_requests=0, seconds_between_writes=0, retry=None)
start = time.time()
owners, repositories, branches = set(), 0, 0
for repository in client.get_user().get_repos():
    owners.add(repository.owner.login)
    repositories += 1
    for branch in repository.get_branches():
        branches += 1
        # The listing carries the head's SHA only; its date costs a request per branch.
        _ = branch.commit.commit.author.date
print(json.dumps({"client": "PyGithub 2.10.0", "seconds": time.time() - start, "workspaces": len(owners),
                  "repositories": repositories, "branches": branches}, sort_keys=True))
