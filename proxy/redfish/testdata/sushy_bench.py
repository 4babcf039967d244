"""Times python3-sushy reading a system's power state N times over one
session, and prints the mean per read in microseconds.

    sushy_bench.py URL USER PASSWORD_FILE CA_FILE N
"""
import sys
import time

import sushy
from sushy import auth


def main():
    url, user, pwfile, cafile, n = sys.argv[1:6]
    with open(pwfile) as f:
        password = f.read().strip()
    session = auth.SessionAuth(username=user, password=password)
    root = sushy.Sushy(url + "/redfish/v1/", verify=cafile, auth=session)
    system = root.get_system(list(root.get_system_collection().members_identities)[0])
    n = int(n)
    start = time.perf_counter()
    for _ in range(n):
        system.refresh(force=True)
        if system.power_state is None:
            raise SystemExit("no power state")
    elapsed = time.perf_counter() - start
    session.close()
    print("%.1f" % (elapsed / n * 1e6))


if __name__ == "__main__":
    main()
