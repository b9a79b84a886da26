"""How the detail of one VM shows its devices: domainxml's plain values, with what only libvirt
can add (a volume's pool and size, the guest's addresses). Nothing here fails the detail: what
cannot be asked is null or empty."""

import libvirt

_ADDRESS_TYPES = {libvirt.VIR_IP_ADDR_TYPE_IPV4: "ipv4", libvirt.VIR_IP_ADDR_TYPE_IPV6: "ipv6"}


def _where(conn, disk, sizes=True):
    """`(pool, volume, path, capacity, allocation)` of a disk's source: from its volume
    when the path is one of a pool's, else the path alone. Each call here is a round trip
    to libvirtd, so what the XML says is not asked again, nor sizes nobody shows."""
    vol = None
    try:
        if disk.pool and disk.volume:
            vol = conn.storagePoolLookupByName(disk.pool).storageVolLookupByName(disk.volume)
        elif disk.path:
            vol = conn.storageVolLookupByPath(disk.path)
    except libvirt.libvirtError:
        vol = None      # a file of no pool (or of a pool that is not running)
    if vol is None:
        return None, None, disk.path, None, None
    try:
        capacity = allocation = None
        if sizes:
            _, capacity, allocation = vol.info()
        return (vol.storagePoolLookupByVolume().name(), vol.name(), disk.path or vol.path(),
                capacity, allocation)
    except libvirt.libvirtError:
        return None, None, disk.path, None, None


def disk_answer(conn, dom, disk):
    pool, volume, path, capacity, allocation = _where(conn, disk)
    if capacity is None and disk.target:
        try:
            capacity, allocation, _ = dom.blockInfo(disk.target)
        except libvirt.libvirtError:
            pass    # a missing file, a network disk: unknown, not an error
    return {"target": disk.target, "bus": disk.bus, "device": "disk", "pool": pool,
            "volume": volume, "path": path, "format": disk.format, "capacity": capacity,
            "allocation": allocation, "readonly": disk.readonly}


def cdrom_answer(conn, disk):
    pool, volume, path, _, _ = _where(conn, disk, sizes=False)
    return {"target": disk.target, "bus": disk.bus, "pool": pool, "volume": volume,
            "path": path}


def nic_answer(nic, addresses):
    return {"mac": nic.mac, "model": nic.model, "network": nic.network, "bridge": nic.bridge,
            "addresses": addresses}


def guest_addresses(dom, found):
    """`{MAC: [{address, prefix, type, source}]}` of a running VM's NICs: from its guest agent
    when one is connected, else (and for the NICs it does not name) from DHCP leases. What
    cannot be asked is left out: never an error for the whole detail."""
    by_mac = {}
    sources = [(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, "lease")]
    if found.guest_agent:
        sources.insert(0, (libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, "agent"))
    for source, name in sources:
        try:
            answer = dom.interfaceAddresses(source, 0) or {}
        except libvirt.libvirtError:
            continue
        for interface in answer.values():
            mac = (interface.get("hwaddr") or "").lower()
            if not mac or mac in by_mac and by_mac[mac][0]["source"] != name:
                continue
            for address in interface.get("addrs") or []:
                kind = _ADDRESS_TYPES.get(address.get("type"))
                if kind and address.get("addr"):
                    by_mac.setdefault(mac, []).append({
                        "address": address["addr"], "prefix": address.get("prefix"),
                        "type": kind, "source": name})
    return by_mac
