"""The peer for the initial-sync benchmark: atlassian-python-api (PyPI) listing every workspace,
repository and branch head of the account, as its documentation shows it. Prints one JSON line."""
import json
import sys
import time

from atlassian.bitbucket import Cloud


def main() -> None:
    origin, token = sys.argv[1], sys.argv[2]
    cloud = Cloud(url=origin, token=token)
    started = time.perf_counter()
    workspaces = repositories = branches = 0
    for workspace in cloud.workspaces.each():
        workspaces += 1
        for repository in workspace.repositories.each():
            repositories += 1
            for branch in repository.branches.each():
                branches += 1
                _ = branch.hash
    seconds = time.perf_counter() - started
    print(json.dumps({"client": "atlassian-python-api", "seconds": seconds, "workspaces": workspaces,
                      "repositories": repositories, "branches": branches}, sort_keys=True))


if __name__ == "__main__":
    main()
