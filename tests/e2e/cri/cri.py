#!/usr/bin/python3
"""A kubelet's side of CRI, as small as the end-to-end tests need: pods and containers made on a
real containerd over its CRI gRPC service (runtime.v1) the way the kubelet makes them — a sandbox
per pod (RunPodSandbox), then each init container created, started and waited for in turn, then
the app containers, then everything stopped and removed.

The messages are encoded by hand from the field numbers of CRI's published api.proto (no generated
code: Debian packages grpcio, not the CRI stubs). Only the fields used are written.

    cri.py SOCKET SCENARIO.json   prints one JSON line per container run, then {"done": ...}
    cri.py SOCKET start POD.json  starts one pod's containers and leaves them running: prints
                                  {"sandbox": ID, "containers": [ID...]}
    cri.py SOCKET remove SANDBOX [CONTAINER...]   stops and removes them

A scenario: {"pods": [{"name", "namespace", "uid", "labels": {}, "init": [C...], "containers":
[C...]}], "repeat": N (pods run one after another, N times each with a numbered name)}
C: {"name", "image", "command": [...], "args": [...], "wait": seconds to wait for its exit
(default 30), "caps": {"add": [...], "drop": [...]}, "env": {}, "mounts": [{"host", "container",
"readonly"}], "log": path under the pod's "log_directory", "readonly_rootfs", "no_new_privs",
"run_as_user", "seccomp": "RuntimeDefault" or the absolute path of a Localhost profile}
"""
import json
import sys
import time

import grpc

# --- protobuf wire format ---------------------------------------------------------------------


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_str(num, s):
    return field_bytes(num, s.encode()) if s else b""


def field_int(num, n):
    return varint(num << 3) + varint(n) if n else b""


def field_map(num, d):
    return b"".join(field_bytes(num, field_str(1, k) + field_str(2, v)) for k, v in sorted(d.items()))


def read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def parse(buf):
    """field number -> list of values (ints or bytes)"""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(buf, i)
        elif wire == 2:
            n, i = read_varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        out.setdefault(num, []).append(v)
    return out


# --- CRI messages (runtime.v1, api.proto field numbers) -------------------------------------

NODE = 2  # NamespaceMode: the host's network (no CNI here)


def sandbox_config(pod):
    metadata = field_str(1, pod["name"]) + field_str(2, pod["uid"]) + field_str(3, pod["namespace"])
    namespace_options = field_int(1, NODE)  # network; pid and ipc stay per pod
    security = field_bytes(1, namespace_options)
    linux = field_str(1, pod.get("cgroup_parent", "")) + field_bytes(2, security)
    # No hostname: a pod on the host's network has the host's (as the kubelet leaves it).
    return (field_bytes(1, metadata) + field_str(3, pod.get("log_directory", "")) +
            field_map(6, pod.get("labels", {})) + field_map(7, pod.get("annotations", {})) +
            field_bytes(8, linux))


def field_bool(num, b):
    return varint(num << 3) + varint(1) if b else b""


def container_config(c):
    metadata = field_str(1, c["name"])
    image = field_str(1, c["image"])
    caps = c.get("caps", {})
    capability = b"".join(field_str(1, a) for a in caps.get("add", [])) + \
        b"".join(field_str(2, d) for d in caps.get("drop", []))
    security = field_bytes(1, capability) if capability else b""
    if "run_as_user" in c:  # an Int64Value: present even for 0
        security += field_bytes(5, varint(1 << 3) + varint(c["run_as_user"]))
    security += field_bool(7, c.get("readonly_rootfs", False))
    security += field_bool(11, c.get("no_new_privs", False))
    if c.get("seccomp") == "RuntimeDefault":  # SecurityProfile{profile_type: RuntimeDefault (0)}
        security += field_bytes(15, b"")
    elif c.get("seccomp", "").startswith("/"):  # SecurityProfile{Localhost (2), localhost_ref}
        security += field_bytes(15, field_int(1, 2) + field_str(2, c["seccomp"]))
    linux = field_bytes(2, security) if security else b""
    envs = b"".join(field_bytes(6, field_str(1, k) + field_str(2, v))
                    for k, v in sorted(c.get("env", {}).items()))
    mounts = b"".join(field_bytes(7, field_str(1, m["container"]) + field_str(2, m["host"]) +
                                  field_bool(3, m.get("readonly", False)))
                      for m in c.get("mounts", []))
    return (field_bytes(1, metadata) + field_bytes(2, image) +
            b"".join(field_str(3, a) for a in c.get("command", [])) +
            b"".join(field_str(4, a) for a in c.get("args", [])) + envs + mounts +
            field_str(11, c.get("log", "")) +
            (field_bytes(15, linux) if linux else b""))


class Runtime:
    def __init__(self, socket):
        self.channel = grpc.insecure_channel("unix://" + socket)
        grpc.channel_ready_future(self.channel).result(timeout=30)

    def call(self, method, request, timeout=60):
        fn = self.channel.unary_unary("/runtime.v1.RuntimeService/" + method,
                                      request_serializer=None, response_deserializer=None)
        return parse(fn(request, timeout=timeout))

    def run_sandbox(self, pod):
        r = self.call("RunPodSandbox", field_bytes(1, sandbox_config(pod)))
        return r[1][0].decode()

    def create(self, sandbox, c, pod):
        r = self.call("CreateContainer", field_str(1, sandbox) +
                      field_bytes(2, container_config(c)) + field_bytes(3, sandbox_config(pod)))
        return r[1][0].decode()

    def start(self, cid):
        self.call("StartContainer", field_str(1, cid))

    def status(self, cid):
        st = parse(self.call("ContainerStatus", field_str(1, cid))[1][0])
        state = st.get(3, [0])[0]
        exit_code = st.get(7, [0])[0]
        if exit_code >= 1 << 31:
            exit_code -= 1 << 64
        # started_at, finished_at: ns since the epoch, as the runtime saw the container live
        ran_ms = (st.get(6, [0])[0] - st.get(5, [0])[0]) / 1e6
        return state, exit_code, ran_ms

    def wait_exit(self, cid, seconds):
        """(exit code, how long it ran in ms) once it exited; (None, None) past the limit"""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state, code, ran_ms = self.status(cid)
            if state == 2:  # CONTAINER_EXITED
                return code, ran_ms
            time.sleep(0.005)
        return None, None

    def stop_remove(self, sandbox, ids):
        for cid in ids:
            self.call("StopContainer", field_str(1, cid) + field_int(2, 2))
            self.call("RemoveContainer", field_str(1, cid))
        self.call("StopPodSandbox", field_str(1, sandbox))
        self.call("RemovePodSandbox", field_str(1, sandbox))


def run_pod(rt, pod):
    sandbox = rt.run_sandbox(pod)
    ids = []
    try:
        # Init containers one after another, each to its exit, as the kubelet runs them.
        for c in pod.get("init", []):
            cid = rt.create(sandbox, c, pod)
            ids.append(cid)
            started = time.monotonic()
            rt.start(cid)
            code = rt.wait_exit(cid, c.get("wait", 30))
            emit(pod, c, cid, code, started, init=True)
        app = []
        for c in pod.get("containers", []):
            cid = rt.create(sandbox, c, pod)
            ids.append(cid)
            started = time.monotonic()
            rt.start(cid)
            app.append((c, cid, started))
        for c, cid, started in app:
            emit(pod, c, cid, rt.wait_exit(cid, c.get("wait", 30)), started, init=False)
    finally:
        rt.stop_remove(sandbox, ids)
    return sandbox


def emit(pod, c, cid, ended, started, init):
    code, ran_ms = ended
    print(json.dumps({"namespace": pod["namespace"], "pod": pod["name"], "container": c["name"],
                      "id": cid, "init": init, "exit": code, "ranMs": ran_ms,
                      "seconds": round(time.monotonic() - started, 4)}), flush=True)


def main():
    if len(sys.argv) >= 4 and sys.argv[2] == "start":
        with open(sys.argv[3]) as f:
            pod = json.load(f)
        rt = Runtime(sys.argv[1])
        sandbox = rt.run_sandbox(pod)
        ids = []
        for c in pod["containers"]:
            cid = rt.create(sandbox, c, pod)
            rt.start(cid)
            ids.append(cid)
        print(json.dumps({"sandbox": sandbox, "containers": ids}), flush=True)
        return 0
    if len(sys.argv) >= 4 and sys.argv[2] == "remove":
        Runtime(sys.argv[1]).stop_remove(sys.argv[3], sys.argv[4:])
        return 0
    if len(sys.argv) != 3:
        print("usage: cri.py SOCKET SCENARIO.json | start POD.json | remove SANDBOX [ID...]",
              file=sys.stderr)
        return 2
    with open(sys.argv[2]) as f:
        scenario = json.load(f)
    rt = Runtime(sys.argv[1])
    begun = time.monotonic()
    pods = 0
    for n in range(scenario.get("repeat", 1)):
        for pod in scenario["pods"]:
            p = dict(pod)
            if scenario.get("repeat", 1) > 1:
                p["name"] = "%s-%d" % (pod["name"], n)
                p["uid"] = "%s-%d" % (pod["uid"], n)
            run_pod(rt, p)
            pods += 1
    print(json.dumps({"done": pods, "seconds": round(time.monotonic() - begun, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
