"""Drives a Redfish service with python3-sushy (OpenStack's Redfish library)
and prints what it saw as one JSON object. Used by bmcsim's tests to show
that the simulated Redfish service works with a client written elsewhere.

    sushy_client.py URL USER PASSWORD_FILE CA_FILE IMAGE_URL
"""
import json
import sys

import sushy
from sushy import auth


def main():
    url, user, pwfile, cafile, image = sys.argv[1:6]
    with open(pwfile) as f:
        password = f.read().strip()
    session = auth.SessionAuth(username=user, password=password)
    root = sushy.Sushy(url + "/redfish/v1/", verify=cafile, auth=session)
    out = {}
    system = root.get_system(list(root.get_system_collection().members_identities)[0])
    out["power_before"] = str(system.power_state.value)
    out["allowed_resets"] = sorted(v.value for v in system.get_allowed_reset_system_values())
    system.reset_system(sushy.ResetType.FORCE_OFF)
    system.refresh()
    out["power_after_off"] = str(system.power_state.value)
    system.reset_system(sushy.ResetType.ON)
    system.refresh()
    out["power_after_on"] = str(system.power_state.value)
    system.set_system_boot_options(target=sushy.BootSource.CD,
                                   enabled=sushy.BootSourceOverrideEnabled.ONCE,
                                   mode=sushy.BootSourceOverrideMode.UEFI)
    system.refresh()
    out["boot"] = [system.boot.target.value, system.boot.enabled.value, system.boot.mode.value]
    out["system"] = {"manufacturer": system.manufacturer, "sku": system.sku,
                     "serial": system.serial_number, "bios": system.bios_version}
    chassis = root.get_chassis(list(root.get_chassis_collection().members_identities)[0])
    out["temperatures"] = {t.name: t.reading_celsius for t in chassis.thermal.temperatures}
    out["fans"] = {f.name: f.reading for f in chassis.thermal.fans}
    manager = root.get_manager(list(root.get_manager_collection().members_identities)[0])
    out["firmware"] = manager.firmware_version
    vms = manager.virtual_media
    cd = [vms.get_member(i) for i in vms.members_identities]
    cd = [m for m in cd if "CD" in [t.value for t in m.media_types]][0]
    cd.insert_media(image)
    cd.refresh()
    out["media_inserted"] = [cd.inserted, cd.image]
    cd.eject_media()
    cd.refresh()
    out["media_ejected"] = [cd.inserted, cd.image]
    # Event log: sushy has no LogService resource; read it through its
    # connector, as sushy's own sub-resources do.
    entries = root._conn.get(system.path + "/LogServices/Log1/Entries").json()
    out["log_entries"] = len(entries["Members"])
    out["sessions_open"] = len(root.get_session_service().sessions.members_identities)
    session.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
