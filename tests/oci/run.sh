#!/usr/bin/env bash
# tests/oci/run.sh — Kiln images as OCI images that urunc runs (docs/deploy.md). `kiln build
# --oci/--oci-archive` of examples/http-server with examples/www, checked by the OCI tools
# (umoci stat, skopeo inspect, podman load + image inspect in a private store under $T); then
# urunc's part, played by this script: unpack with umoci (the runtime spec's annotations are
# what urunc reads), build urunc's QEMU command line for a Mewz unikernel from them, with
# `-accel tcg` instead of `-cpu host -enable-kvm` and no -bios (SeaBIOS, as urunc), on a tap
# device joined to a veth pair as urunc does, in two network namespaces this suite creates
# and removes (192.168.213.0/16 and 10.77.0.0/24, nothing leaves them); fetch files
# byte-exact, also through gateway= and with ip=A/16. Then examples/hello and an app exiting 3,
# from an --oci-archive, with their arguments and environment baked in at build time: stdout
# and QEMU's exit status ((status << 1) | 1 through isa-debug-exit 0x501).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh

vm_setup
NS= NC= # the pod's network namespace, and the cluster's side of it (tests/lib.sh netns_add)
# lib.sh's cleanup (VMs, $T), and the namespaces with their devices.
trap 'for g in "${VM_PGIDS[@]-}"; do [ -n "$g" ] && kill -- "-$g" 2>/dev/null; done
  netns_del "$NS"; netns_del "$NC"; rm -rf "$T"' EXIT

vm_make $KILN_DRIVER build/examples/http-server.wasm build/examples/hello.wasm build/examples/www.stamp
WWW=build/examples/www # examples/www and big.bin (1 MiB), as `make run` serves them
W=build/tests/oci
mkdir -p "$W"

missing=""
for t in umoci skopeo podman; do command -v $t >/dev/null || missing+=" $t"; done
if [ -n "$missing" ]; then
  skip "OCI images" "missing$missing (Debian packages; tools/deps.sh installs them)"
  finish
  exit
fi

# labels PATH: the com.urunc.unikernel.* entries of the JSON object at PATH (keys and list
# indexes, dot-separated) in the JSON on stdin, as "key=value" lines (key without the prefix).
labels() {
  python3 -c 'import json, sys
o = json.load(sys.stdin)
for k in sys.argv[1].split("."): o = o[int(k)] if k.isdigit() else (o or {}).get(k)
for k, v in sorted((o or {}).items()):
    if k.startswith("com.urunc.unikernel."): print("%s=%s" % (k[20:], v))' "$1"
}

# ---- 1. the image, and the OCI tools' view of it ----
# -o as well: OUT.cmdline is the line the image must carry.
if ./kiln build build/examples/http-server.wasm --dir "$WWW:/" --listen tcp:80 -o "$T/http.iso" \
  --oci "$T/http.oci" --oci-archive "$T/http.tar" >"$T/build.log" 2>&1; then
  pass "kiln build --oci DIR --oci-archive FILE.tar (http-server, examples/www)"
else
  fail "kiln build --oci" "$(tail -n3 "$T/build.log" | tr '\n' '|')"
  finish
  exit 1
fi
check "umoci stat (layout)" umoci stat --image "$T/http.oci:latest"
# What every tool must show: the five keys, the build-time command line included.
want=$(printf '%s\n' binary=/boot/kernel.elf "cmdline=$(paste -sd' ' "$T/http.cmdline")" hypervisor=qemu \
  initrd=/boot/fs.img unikernelType=mewz | sort)
same() { # same NAME GOT: GOT must be $want
  if [ "$2" = "$want" ]; then pass "$1"; else fail "$1" "got '$(tr '\n' '|' <<<"$2")', want '$(tr '\n' '|' <<<"$want")'"; fi
}
same "skopeo inspect: config labels" "$(skopeo inspect "oci:$T/http.oci:latest" | labels Labels)"
same "skopeo inspect --raw: manifest annotations" "$(skopeo inspect --raw "oci:$T/http.oci:latest" | labels annotations)"
d1=$(skopeo inspect "oci:$T/http.oci:latest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
d2=$(skopeo inspect "oci-archive:$T/http.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
if [ -n "$d1" ] && [ "$d1" = "$d2" ]; then pass "skopeo inspect: the archive holds the layout's manifest ($d1)"
else fail "archive = layout" "layout $d1, archive $d2"; fi

# The ELF's command line is bounded: a longer one is refused by kiln build, never cut.
long=$(head -c 5000 /dev/zero | tr '\0' x)
if ! ./kiln build build/examples/hello.wasm --arg "$long" --oci "$T/long.oci" >"$T/long.log" 2>&1 &&
  grep -q "more than the 4095 an image holds" "$T/long.log" && [ ! -e "$T/long.oci" ]; then
  pass "a command line over 4095 bytes is refused"
else
  fail "a command line over 4095 bytes is refused" "$(tail -n1 "$T/long.log")"
fi

# podman as root, in a store of its own under $T: nothing reaches the machine's storage.
P=(podman --root "$T/podman/root" --runroot "$T/podman/run" --tmpdir "$T/podman/tmp" --storage-driver vfs
  --events-backend none --cgroup-manager cgroupfs)
# podman applies an image's layers after remounting /, which fails where / is not a mount point
# (a chroot, as debootstrap makes: "remount /, flags: 0x44000: invalid argument"). There it runs
# in a mount namespace of its own, chrooted into a bind mount of / (the same files).
if ! mountpoint -q /; then
  mkdir -p "$T/rootbind"
  P=(unshare -m --propagation unchanged -- sh -c 'mount --rbind / "$0" && mount --make-rprivate "$0" && exec chroot "$0" "$@"'
    "$T/rootbind" "${P[@]}")
fi
if out=$(TMPDIR=$T "${P[@]}" load -i "$T/http.tar" 2>&1) && grep -q "localhost/kiln/http-server:latest" <<<"$out"; then
  pass "podman load (private store): localhost/kiln/http-server:latest"
  pj=$(TMPDIR=$T "${P[@]}" image inspect localhost/kiln/http-server:latest 2>"$T/podman.err")
  same "podman image inspect: Annotations" "$(labels 0.Annotations <<<"$pj")"
  same "podman image inspect: Labels" "$(labels 0.Labels <<<"$pj")"
else
  fail "podman load" "$(tr '\n' '|' <<<"$out" | tail -c 600)"
fi

# ---- 2. urunc's part: unpack, read the annotations, boot its Mewz command line ----
if ! umoci unpack --image "$T/http.oci:latest" "$T/bundle" >"$T/unpack.log" 2>&1; then
  fail "umoci unpack" "$(tail -n2 "$T/unpack.log" | tr '\n' '|')"
  finish
  exit 1
fi
same "umoci unpack: runtime spec annotations (what urunc reads)" "$(labels annotations <"$T/bundle/config.json")"
# /urunc.json: the same keys, each value base64 (urunc's fallback when annotations are lost)
same "/urunc.json: base64 values" "$(python3 -c 'import base64, json, sys
for k, v in sorted(json.load(open(sys.argv[1])).items()):
    print("%s=%s" % (k[20:], base64.b64decode(v, validate=True).decode()))' "$T/bundle/rootfs/urunc.json")"

# annot SPEC KEY: one com.urunc.unikernel.KEY of a runtime spec (config.json)
annot() { labels annotations <"$1" | sed -n "s/^$2=//p"; }
# urunc_qemu NAME BUNDLE TAP MEM EXTRA...: starts urunc's QEMU command line for a Mewz
# unikernel from the bundle's annotations, in the namespace, output in $T/NAME.log. As urunc:
# -initrd only with the initrd annotation; -append carries only the network. Here -accel tcg
# stands for urunc's "-cpu host -enable-kvm".
urunc_qemu() {
  local name=$1 b=$2 tap=$3 mem=$4 spec=$2/config.json
  shift 4
  local type hv bin initrd q
  type=$(annot "$spec" unikernelType) hv=$(annot "$spec" hypervisor) bin=$(annot "$spec" binary) initrd=$(annot "$spec" initrd)
  [ "$type" = mewz ] && [ "$hv" = qemu ] && [ -f "$b/rootfs$bin" ] || {
    echo "not a qemu/mewz image with its binary: type '$type' hypervisor '$hv' binary '$bin'" >"$T/$name.log"
    return 1
  }
  q=(qemu-system-x86_64 -m "$mem" -accel tcg -nographic -vga none -kernel "$b/rootfs$bin")
  [ -z "$initrd" ] || q+=(-initrd "$b/rootfs$initrd")
  q+=(-device virtio-net-pci,netdev=net0,disable-legacy=on,disable-modern=off
    -netdev "tap,script=no,downscript=no,id=net0,ifname=$tap" -no-reboot
    -device isa-debug-exit,iobase=0x501,iosize=2 "$@")
  vm_start "$name" nsenter --target "$NS" --net timeout 120 "${q[@]}"
}

# Booted without its -initrd (a runtime that dropped the initrd annotation): a panic that says
# so, QEMU status (0x7f << 1) | 1.
timeout 60 qemu-system-x86_64 -m 16M -accel tcg -nographic -vga none -kernel "$T/bundle/rootfs/boot/kernel.elf" \
  -no-reboot -device isa-debug-exit,iobase=0x501,iosize=2 -append "ip=192.168.213.2/24" </dev/null >"$T/noinitrd.log" 2>&1
rc=$?
if [ $rc = 255 ] && grep -q "were not loaded: boot it with -initrd" "$T/noinitrd.log"; then
  pass "without -initrd: the kernel says so (QEMU status 255)"
else
  fail "without -initrd" "status $rc: $(tail -n2 "$T/noinitrd.log" | tr '\n' '|')"
fi

if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
  skip "urunc's QEMU command line" "needs root and /dev/net/tun (network namespaces, a tap device)"
  finish
  exit
fi
# As urunc's default ("dynamic") network: CNI gave the pod's namespace an eth0 (one end of a
# veth pair, the other in a namespace standing for the cluster) with the pod's address; urunc
# adds a tap device, joins it to eth0 both ways with tc mirred redirects, and hands the VM
# eth0's address and gateway. The guest's MAC is QEMU's, not eth0's, as with urunc.
if ! { netns_add NS && netns_add NC && ip link add eth0 netns "$NS" type veth peer name peer0 netns "$NC" &&
  netns_exec "$NS" ip addr add 192.168.213.2/24 dev eth0 && netns_exec "$NS" ip link set eth0 up && netns_exec "$NS" ip link set lo up &&
  netns_exec "$NC" ip addr add 192.168.213.1/24 dev peer0 && netns_exec "$NC" ip link set peer0 up &&
  netns_exec "$NC" ip addr add 10.77.0.5/24 dev peer0 && netns_exec "$NC" ip addr add 192.168.77.5/16 dev peer0 &&
  netns_exec "$NS" ip tuntap add dev tap0_urunc mode tap && netns_exec "$NS" ip link set tap0_urunc up &&
  netns_exec "$NS" tc qdisc add dev eth0 ingress && netns_exec "$NS" tc qdisc add dev tap0_urunc ingress &&
  netns_exec "$NS" tc filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 \
    action mirred egress redirect dev tap0_urunc &&
  netns_exec "$NS" tc filter add dev tap0_urunc parent ffff: protocol all u32 match u32 0 0 \
    action mirred egress redirect dev eth0; } 2>"$T/netns.log"; then
  fail "network namespaces with veth, tap and tc redirects" "$(tail -n1 "$T/netns.log")"
  finish
  exit 1
fi
in_cluster() { netns_exec "$NC" "$@"; } # the client side: the pod's peer

# mem_for BUNDLE: the least the kernel accepts, as docs/deploy.md asks of a pod's memory limit:
# the files (they stay in RAM) rounded up to MiB, plus 8 MiB.
mem_for() {
  local fs=$1/rootfs/boot/fs.img
  if [ -f "$fs" ]; then echo "$(((($(stat -c %s "$fs") + (1 << 20) - 1) >> 20) + 8))M"; else echo 8M; fi
}
# The ELF carries the listening socket and the files' size; urunc passes only the network.
if urunc_qemu http "$T/bundle" tap0_urunc "$(mem_for "$T/bundle")" -append "ip=192.168.213.2/24 gateway=192.168.213.1 "; then
  up=0
  for ((i = 0; i < 120; i++)); do
    in_cluster curl -s -m 2 -o /dev/null http://192.168.213.2/ && { up=1; break; }
    kill -0 "$(cat "$T/http.pid")" 2>/dev/null || break
    sleep 0.5
  done
  if [ $up = 1 ]; then
    pass "urunc's Mewz command line (TCG, SeaBIOS, tap joined to the pod's eth0): the server answers at 192.168.213.2"
    for f in index.html big.bin style.css; do
      if in_cluster curl -s -f -m 60 -o "$T/got" "http://192.168.213.2/$f" && cmp -s "$T/got" "$WWW/$f"; then
        pass "GET /$f byte-exact ($(stat -c %s "$WWW/$f") bytes)"
      else
        fail "GET /$f byte-exact" "$(cmp "$T/got" "$WWW/$f" 2>&1 | head -n1)"
      fi
    done
    code=$(in_cluster curl -s -m 10 -o /dev/null -w '%{http_code}' http://192.168.213.2/no-such-file)
    if [ "$code" = 404 ]; then pass "GET /no-such-file: 404"; else fail "GET /no-such-file" "status $code"; fi
    # A client off the /24 (10.77.0.5, also on the cluster's side) is answered only through
    # gateway=: urunc's spelling of the gateway reached the kernel.
    if in_cluster curl -s -f -m 20 --interface 10.77.0.5 -o "$T/got" http://192.168.213.2/hello.txt &&
      cmp -s "$T/got" "$WWW/hello.txt"; then
      pass "gateway=: a client beyond the subnet is answered through the gateway"
    else
      fail "gateway=" "no answer to 10.77.0.5 through gateway 192.168.213.1"
    fi
  else
    fail "urunc's Mewz command line: the server answers" "$(tail -n3 "$T/http.log" | tr '\n' '|')"
  fi
  stop http
else
  fail "urunc's Mewz command line (http-server)" "$(cat "$T/http.log")"
fi

# ip=A/16 without gateway=: 192.168.77.5 is on the guest's link only if the /16 was taken.
if urunc_qemu http16 "$T/bundle" tap0_urunc "$(mem_for "$T/bundle")" -append "ip=192.168.213.2/16"; then
  ok=0
  for ((i = 0; i < 120; i++)); do
    in_cluster curl -s -f -m 2 --interface 192.168.77.5 -o "$T/got" http://192.168.213.2/hello.txt && { ok=1; break; }
    kill -0 "$(cat "$T/http16.pid")" 2>/dev/null || break
    sleep 0.5
  done
  if [ $ok = 1 ] && cmp -s "$T/got" "$WWW/hello.txt"; then pass "ip=A/16: the mask comes from /BITS"
  else fail "ip=A/16" "no answer to 192.168.77.5: $(tail -n2 "$T/http16.log" | tr '\n' '|')"; fi
  stop http16
else
  fail "ip=A/16" "$(cat "$T/http16.log")"
fi

# ---- 3. other apps, from an archive: args and environment from build time, exit status ----
# run_archive NAME WASM WANT_QEMU_STATUS PATTERN... -- BUILD_OPTIONS...: build an archive,
# unpack it (skopeo into a layout, then umoci), boot it as the pod's VM, check stdout and status.
run_archive() {
  local name=$1 wasm=$2 want=$3 pats=() p rc
  shift 3
  while [ "$1" != -- ]; do pats+=("$1"); shift; done
  shift
  if ! ./kiln build "$wasm" --oci-archive "$T/$name.tar" "$@" >"$T/$name.build" 2>&1 ||
    ! skopeo copy --quiet "oci-archive:$T/$name.tar" "oci:$T/$name.oci:latest" >"$T/$name.copy" 2>&1 ||
    ! umoci unpack --image "$T/$name.oci:latest" "$T/$name.bundle" >"$T/$name.unpack" 2>&1; then
    fail "$name: build, copy and unpack" "$(cat "$T/$name".{build,copy,unpack} 2>/dev/null | tail -n3 | tr '\n' '|')"
    return
  fi
  urunc_qemu "$name" "$T/$name.bundle" tap0_urunc "$(mem_for "$T/$name.bundle")" -append "ip=192.168.213.2/24 gateway=192.168.213.1 " || {
    fail "$name" "$(cat "$T/$name.log")"
    return
  }
  wait "$(cat "$T/$name.pid")"
  rc=$?
  if [ "$rc" != "$want" ]; then fail "$name: QEMU exit status" "$rc, want $want: $(tail -n3 "$T/$name.log" | tr '\n' '|')"; return; fi
  for p in "${pats[@]}"; do
    grep -qF -- "$p" "$T/$name.log" || { fail "$name" "output lacks '$p': $(tail -n3 "$T/$name.log" | tr '\n' '|')"; return; }
  done
  pass "$name (--oci-archive, urunc's command line): output and QEMU status $want"
}
run_archive hello build/examples/hello.wasm 1 "Hello from Kiln!" "argv[0] = hello" "argv[1] = baked in" \
  "WHO = oci" "net: address 192.168.213.2" -- --arg "baked in" --env WHO=oci
clang-19 --target=wasm32-wasi -O2 -o "$W/exit3.wasm" tests/boot/apps/exit3.c
run_archive exit3 "$W/exit3.wasm" 7 -- # exit(3): (3 << 1) | 1

netns_del "$NS"
netns_del "$NC"
finish
