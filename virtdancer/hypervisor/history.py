"""A host's statistics history, kept compact: columns of machine numbers, not nested dicts.

Kept as the samples themselves, 300 rounds of 600 running VMs took ~1.2 KiB of Python dicts and
boxed floats per VM per round, most of a GiB for four such hosts. Here:

- Round r of the host is slot r % capacity of every ring, so the newest round takes the place
  of the one that leaves the window, and nothing else moves. The rounds' times are one ring.
- The host, each of its network interfaces and each VM is a *track*: one byte per slot saying
  whether it was sampled in that round and in which shape (which vCPU keys the VM had, whether
  the host knew its CPU times), and one column per figure.
- A column holds a single value for as long as every round it covers has that value, and only
  becomes a ring when a round brings another one. What a driver never reports (None throughout:
  the test driver has only libvirt's "state" group) or never changes (a VM's maximum memory)
  costs no ring at all.
- Each ring is as narrow as its figure allows. Exactly: percentages are 0.01 steps from 0 to
  100 as the sampler rounds them, so uint16 hundredths; byte counts and memory int64; CPU
  seconds float64. Rates (bytes per second) are float32: a rate is a counter's growth over the
  monotonic time between two rounds, and that time's jitter (scheduling, libvirt's answer: a
  millisecond in two seconds) is ~10^4 times float32's relative precision (6e-8), so the digits
  float32 drops were noise.
- A value a ring cannot hold exactly (another type, out of range) turns that column into a plain
  list: exact for anything, just not compact.
- A VM or interface not sampled for a whole window (stopped, removed) is dropped.

Rounds the host was away are not rounds: they leave a gap in the times, not a slot. A VM that
stops and comes back within the window keeps one track, with the rounds it ran. The history
holds samples as the sampler makes them (`sampler._rates`) and gives them back in that shape.
"""

import math
from array import array
from operator import itemgetter

# -- how one column stores its values -----------------------------------------------------------


class _Unfit(Exception):
    """A value this kind of ring cannot hold exactly."""


class _Kind:
    """A ring's machine type, the code it keeps for None, and the way to and from it."""

    typecode = None
    missing = None

    def ring(self, value, capacity):
        return array(self.typecode, [self.encode(value)]) * capacity

    def settle(self, value):
        """`value` as this ring gives it back (raises `_Unfit` if it cannot hold it)."""
        code = self.encode(value)
        return self.decode(array(self.typecode, [code]))[0]

    def decode(self, codes):
        missing = self.missing
        return [None if code == missing else code for code in codes]


class _Percent(_Kind):
    typecode, missing = "H", 0xFFFF

    def encode(self, value):
        if value is None:
            return self.missing
        if type(value) is float and 0.0 <= value <= 100.0:
            hundredths = round(value * 100)
            if hundredths / 100 == value:
                return hundredths
        raise _Unfit

    def decode(self, codes):
        missing = self.missing
        return [None if code == missing else code / 100 for code in codes]


class _Integer(_Kind):
    typecode, missing = "q", -2 ** 63

    def encode(self, value):
        if value is None:
            return self.missing
        if type(value) is int and -2 ** 63 < value < 2 ** 63:
            return value
        raise _Unfit


class _Float(_Kind):
    """float64 (`"d"`) or float32 (`"f"`); NaN stands for None."""

    missing = math.nan

    def __init__(self, typecode, largest):
        self.typecode = typecode
        self.largest = largest

    def encode(self, value):
        if value is None:
            return math.nan
        if type(value) is float and -self.largest <= value <= self.largest:
            return value
        raise _Unfit

    def decode(self, codes):
        return [None if code != code else code for code in codes]   # NaN is not itself


class _Objects(_Kind):
    """A plain list: any value, exactly."""

    def ring(self, value, capacity):
        return [value] * capacity

    def settle(self, value):
        return value

    def encode(self, value):
        return value

    def decode(self, codes):
        return list(codes)


PERCENT = _Percent()
INTEGER = _Integer()
FLOAT = _Float("d", math.inf)
RATE = _Float("f", 3.4e38)   # float32's largest is 3.4028e38; beyond it array("f") gives inf
OBJECTS = _Objects()


def _in_order(ring, slots, capacity):
    """The items of `ring` for the rounds `slots` (a range of round numbers), oldest first."""
    start = slots.start % capacity
    items = ring[start:start + len(slots)]
    if len(items) < len(slots):
        items += ring[:len(slots) - len(items)]
    return items


class _Column:
    """One figure of one track: a single value until a round brings another, then a ring."""

    __slots__ = ("kind", "constant", "codes")

    def __init__(self, kind, value):
        try:
            self.constant = kind.settle(value)
        except _Unfit:
            kind, self.constant = OBJECTS, value
        self.kind = kind
        self.codes = None

    def put(self, slot, value, capacity):
        if self.codes is None:
            # The type too: 0 == 0.0 == False, but they are not the same answer.
            if value == self.constant and type(value) is type(self.constant):
                return
            self.codes = self.kind.ring(self.constant, capacity)
        try:
            self.codes[slot] = self.kind.encode(value)
        except _Unfit:
            self.codes = self.kind.decode(self.codes)
            self.kind = OBJECTS
            self.codes[slot] = value

    def window(self, slots, capacity):
        """The column's values for the rounds `slots`, oldest first."""
        if self.codes is None:
            return [self.constant] * len(slots)
        return self.kind.decode(_in_order(self.codes, slots, capacity))


class _Track:
    """The host, one of its interfaces or one VM: its shape in each round (0: not sampled) and
    one column per figure."""

    __slots__ = ("shapes", "columns", "last", "values", "steady")

    def __init__(self, capacity):
        self.shapes = array("B", bytes(capacity))
        self.columns = []
        self.last = None      # the newest round it was sampled in
        self.steady = True    # every column still a single value
        self.values = None    # while steady, the values of that round

    def put(self, round_, slot, shape, values, kinds, capacity):
        try:
            self.shapes[slot] = shape
        except OverflowError:   # more than 255 shapes on the host: two bytes per round
            self.shapes = array("H", self.shapes)
            self.shapes[slot] = shape
        self.last = round_
        # Most rounds of an idle VM on a driver with few stats groups change nothing at all.
        if self.steady and values == self.values:
            return
        columns = self.columns
        for column, value in zip(columns, values):
            codes = column.codes
            if codes is not None:   # a ring already: Column.put's common case, inline
                try:
                    codes[slot] = column.kind.encode(value)
                    continue
                except _Unfit:
                    pass
            column.put(slot, value, capacity)
        for index in range(len(columns), len(values)):   # a figure new to this track
            columns.append(_Column(kinds[min(index, len(kinds) - 1)], values[index]))
        if self.steady:
            self.steady = all(column.codes is None for column in columns)
            self.values = values if self.steady else None

    def rounds(self, slots, capacity):
        """(position in `slots`, shape, values) of every round of `slots` it was sampled in."""
        shapes = _in_order(self.shapes, slots, capacity)
        if not any(shapes):
            return
        windows = [column.window(slots, capacity) for column in self.columns]
        for position, shape in enumerate(shapes):
            if shape:
                yield position, shape, [window[position] for window in windows]


class _Shapes:
    """Shapes interned as small numbers, 1 up: 0 means "not sampled"."""

    def __init__(self):
        self._numbers = {}
        self._shapes = [None]

    def number(self, shape):
        number = self._numbers.get(shape)
        if number is None:
            number = self._numbers[shape] = len(self._shapes)
            self._shapes.append(shape)
        return number

    def __getitem__(self, number):
        return self._shapes[number]


# -- the shape of a sample --------------------------------------------------------------------

VM_MEMORY = ("current", "maximum", "used")
VM_DISK = ("read", "write")
VM_NET = ("rx", "tx")
VM_COUNTERS = ("cpu_seconds", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes",
               "net_tx_bytes")
# A VM's values in a track: name, cpu, memory, disk, net, counters, then one per vCPU (the keys,
# cpu_0, cpu_1, ..., are the track's shape). The last kind is every vCPU's. CPU seconds are
# nanoseconds / 1e9, not an integer, and float32 would lose whole seconds.
_VM_KINDS = ((OBJECTS, PERCENT) + (INTEGER,) * len(VM_MEMORY) + (RATE,) * len(VM_DISK + VM_NET)
             + (FLOAT,) + (INTEGER,) * (len(VM_COUNTERS) - 1) + (PERCENT,))
_MEMORY, _DISK, _NET, _COUNTERS = (itemgetter(*keys) for keys in (VM_MEMORY, VM_DISK, VM_NET,
                                                                    VM_COUNTERS))
_VCPUS = len(_VM_KINDS) - 1   # where the vCPUs' values begin


def _vm_row(vm):
    """(vCPU keys, values) of one VM's sample."""
    vcpus = vm["vcpus"]
    return tuple(vcpus), (vm["name"], vm["cpu"], *_MEMORY(vm["memory"]), *_DISK(vm["disk"]),
                          *_NET(vm["net"]), *_COUNTERS(vm["counters"]), *vcpus.values())


def _vm_sample(vcpu_keys, values):
    """The sample `_vm_row` was made of, in the sampler's key order."""
    memory, disk = 2 + len(VM_MEMORY), 2 + len(VM_MEMORY) + len(VM_DISK)
    net = disk + len(VM_NET)
    return {"name": values[0], "cpu": values[1],
            "vcpus": dict(zip(vcpu_keys, values[_VCPUS:])),
            "memory": dict(zip(VM_MEMORY, values[2:memory])),
            "disk": dict(zip(VM_DISK, values[memory:disk])),
            "net": dict(zip(VM_NET, values[disk:net])),
            "counters": dict(zip(VM_COUNTERS, values[net:_VCPUS]))}


HOST_CPU = ("usr", "sys", "steal", "iowait", "irq", "total")
HOST_MEMORY = ("memTotal", "memFree", "memBuffer", "swapTotal", "swapFree")
_HOST_KINDS = (PERCENT,) * len(HOST_CPU) + (INTEGER,) * len(HOST_MEMORY)
_NO_CPU = (None,) * len(HOST_CPU)
_NIC_KINDS = (RATE,)
HOST_PARTS = ("cpu", "mem", "nic")


# -- the history --------------------------------------------------------------------------------

class History:
    """The last `capacity` rounds of one host: `append` a sample, read series back.

    Not thread-safe: the sampler holds its lock around every call.
    """

    def __init__(self, capacity):
        self.capacity = capacity
        self.newest = -1   # number of the newest round; rounds count from 0
        self._times = array("d", bytes(8 * capacity))
        self._host = _Track(capacity)
        self._host_shapes = _Shapes()
        self._nics = {}
        self._nic_shapes = _Shapes()
        self._vms = {}
        self._vm_shapes = _Shapes()

    def __len__(self):
        return min(self.newest + 1, self.capacity)

    def append(self, sample):
        """Keep one round of the sampler; once the window is full, the oldest leaves it."""
        round_ = self.newest + 1
        slot = round_ % self.capacity
        self._times[slot] = sample["time"]
        cpu, memory, nics = (sample["host"][part] for part in HOST_PARTS)
        shape = self._host_shapes.number((cpu is not None, nics is not None))
        values = (_NO_CPU if cpu is None else tuple(cpu[key] for key in HOST_CPU)) \
            + tuple(memory[key] for key in HOST_MEMORY)
        self._host.put(round_, slot, shape, values, _HOST_KINDS, self.capacity)
        self._put_each(self._nics, nics or {}, round_, slot, self._nic_row, _NIC_KINDS)
        self._put_each(self._vms, sample["vms"], round_, slot, self._vm_row, _VM_KINDS)
        self.newest = round_

    def _nic_row(self, rates):
        return self._nic_shapes.number(tuple(rates)), tuple(rates.values())

    def _vm_row(self, vm):
        vcpu_keys, values = _vm_row(vm)
        return self._vm_shapes.number(vcpu_keys), values

    def _put_each(self, tracks, parts, round_, slot, row, kinds):
        """One round of every interface or VM: a track each, new ones made, those not sampled
        marked so, those not sampled for a whole window dropped."""
        capacity = self.capacity
        for key, part in parts.items():
            track = tracks.get(key)
            if track is None:
                track = tracks[key] = _Track(capacity)
            shape, values = row(part)
            track.put(round_, slot, shape, values, kinds, capacity)
        if len(tracks) == len(parts):
            return   # every track was sampled in this round
        for key in tracks.keys() - parts.keys():
            track = tracks[key]
            track.shapes[slot] = 0
            if round_ - track.last >= capacity:
                del tracks[key]

    # -- reading ----------------------------------------------------------------------------

    def _slots(self):
        return range(self.newest + 1 - len(self), self.newest + 1)

    def times(self):
        """The kept rounds' times, oldest first."""
        return list(_in_order(self._times, self._slots(), self.capacity))

    def host(self, part):
        """`[(time, value)]` of the host's "cpu", "mem" or "nic" in every kept round, oldest
        first; the value is None where the round had none (no CPU times, not this machine)."""
        slots, times = self._slots(), self.times()
        nics = self._nic_rounds(slots) if part == "nic" else None
        answer = []
        for position, shape, values in self._host.rounds(slots, self.capacity):
            cpu_known, nic_known = self._host_shapes[shape]
            if part == "cpu":
                value = dict(zip(HOST_CPU, values)) if cpu_known else None
            elif part == "mem":
                value = dict(zip(HOST_MEMORY, values[len(HOST_CPU):]))
            else:
                value = nics[position] if nic_known else None
            answer.append((times[position], value))
        return answer

    def _nic_rounds(self, slots):
        nics = [{} for _ in slots]
        for name in sorted(self._nics):   # in the sampler's order: hostinfo.nic_names sorts
            for position, shape, values in self._nics[name].rounds(slots, self.capacity):
                nics[position][name] = dict(zip(self._nic_shapes[shape], values))
        return nics

    def vm(self, uuid):
        """`[(time, sample)]` of every kept round the VM was sampled in, oldest first."""
        track = self._vms.get(uuid)
        if track is None:
            return []
        slots, times = self._slots(), self.times()
        return [(times[position], _vm_sample(self._vm_shapes[shape], values))
                for position, shape, values in track.rounds(slots, self.capacity)]

    def samples(self):
        """Every kept round in the sampler's shape, oldest first. For tests and tools: it
        builds the whole history as dicts again."""
        parts = [self.host(part) for part in HOST_PARTS]
        rounds = [{"time": cpu[0], "host": {"cpu": cpu[1], "mem": memory[1], "nic": nics[1]},
                   "vms": {}} for cpu, memory, nics in zip(*parts)]
        slots = self._slots()
        for uuid, track in self._vms.items():
            for position, shape, values in track.rounds(slots, self.capacity):
                rounds[position]["vms"][uuid] = _vm_sample(self._vm_shapes[shape], values)
        return rounds

    def vms(self):
        """The UUIDs of the VMs sampled in at least one kept round."""
        return set(self._vms)

    def vm_rounds(self):
        """How many VM samples the history holds: each VM's rounds, summed."""
        return sum(len(track.shapes) - track.shapes.count(0) for track in self._vms.values())
