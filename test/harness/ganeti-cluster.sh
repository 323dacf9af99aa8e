#!/bin/bash
# ganeti-cluster.sh node T NODE
# ganeti-cluster.sh hub BRIDGE
#
# Runs as PID 1 of fresh namespaces (started by ganeti-cluster.ts through
# `unshare`), one per Ganeti node plus one for the management network's hub.
#
# `node`: mount + network + UTS + PID namespaces; the node is made private
# there: everything Ganeti, sshd and Open vSwitch write at their fixed system
# paths lands in the node's temp dir T or in tmpfs, and vanishes with the
# namespaces.
#
#   /sys                 a fresh sysfs (this network namespace's /sys/class/net)
#   /run                 tmpfs (Ganeti's /var/run/ganeti, OVS's /var/run/openvswitch,
#                        sshd's pidfile, /var/lock)
#   /etc                 overlay: host /etc + T/root/etc, which holds before the
#                        mount: hosts (the host's plus every node and the cluster
#                        name), ssh/ (the host's configuration with fresh host keys
#                        of this node), ovs-vif/ (empty: the node's switches.json
#                        and defaults.json are the test's)
#   /etc/ganeti          T/root/etc/ganeti bound (a copy of the host's, plus
#                        install.sh --ganeti links; tests add hooks from outside)
#   /etc/ovs-vif         T/root/etc/ovs-vif bound (tests write specs from outside)
#   /usr                 overlay: host /usr + T/root/usr (install.sh's /usr/lib/ovs-vif/ovs-vif)
#   /var                 overlay: host /var + T/root/var (e.g. /var/lib/ovs-vif, where
#                        ovs-vif keeps the Ganeti view it distributes)
#   /var/lib/ganeti      T/varlib
#   /var/log/ganeti      T/varlog
#   /root                overlay: host /root + T/root/root (a host without
#                        /root/.ssh gets its mount point there, not on the host)
#   /root/.ssh           T/ssh
#   /srv                 tmpfs (/srv/ganeti/os/noop: the no-op OS definition)
#   /dev/log             an empty file (no syslog from the private node)
#
# Then: the node's own sshd (gnt-node add logs in with it and restarts it via
# `service ssh restart`), OVS (userspace datapath) at its default paths, Linux
# bridge gntlb, the no-op OS. The links (management veth gntv0, trunk uplink
# gntup0) and the OVS bridge are made by ganeti-cluster.ts after READY.
#
# `hub`: network namespace with the Linux bridge BRIDGE the nodes' management
# veths are plugged into.
#
# Prints READY, then becomes a reaping init (orphaned Ganeti daemons and
# QEMU are reaped; a zombie would make Ganeti wait for it).
set -euo pipefail

reap() {
  exec python3 -c '
import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)
'
}

if [[ $1 == hub ]]; then
  ip link set lo up
  ip link add "$2" type bridge
  ip link set "$2" up
  echo READY
  reap
fi

T=$2 NODE=$3

mount -t tmpfs -o mode=0755 tmpfs /run
# sysfs shows the network namespace of whoever mounted it: remount it here
# (as `ip netns exec` does), or /sys/class/net would list the host's links.
mount -t sysfs sysfs /sys
mkdir -p /run/lock /run/openvswitch /run/ganeti /run/sshd
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/root/etc,workdir=$T/work-etc" /etc
mount --bind "$T/root/etc/ganeti" /etc/ganeti
mount --bind "$T/root/etc/ovs-vif" /etc/ovs-vif
mount -t overlay overlay -o "lowerdir=/var,upperdir=$T/root/var,workdir=$T/work-var" /var
mount --bind "$T/varlib" /var/lib/ganeti
mount --bind "$T/varlog" /var/log/ganeti
mount -t overlay overlay -o "lowerdir=/root,upperdir=$T/root/root,workdir=$T/work-root" /root
mkdir -p /root/.ssh
mount --bind "$T/ssh" /root/.ssh
mount -t tmpfs -o mode=0755 tmpfs /srv
mount -t overlay overlay -o "lowerdir=/usr,upperdir=$T/root/usr,workdir=$T/work-usr" /usr
# Syslog lines of this private node stay out of the host's log: a socket
# /dev/log is covered by an empty file (a symlink into /run now dangles).
if [[ -S /dev/log && ! -L /dev/log ]]; then
  : >"$T/devlog"
  mount --bind "$T/devlog" /dev/log
fi

hostname "$NODE"
ip link set lo up

# The node's sshd: its own host keys (/etc/ssh above), pidfile /run/sshd.pid.
/usr/sbin/sshd

# Open vSwitch at its default paths (Ganeti and plain ovs-vsctl expect them).
R=/run/openvswitch
ovsdb-tool create $R/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server $R/conf.db --remote=punix:$R/db.sock --pidfile=$R/ovsdb-server.pid --log-file="$T/ovsdb-server.log" --no-chdir --detach
ovs-vsctl --no-wait init
ovs-vswitchd unix:$R/db.sock --pidfile=$R/ovs-vswitchd.pid --log-file="$T/ovs-vswitchd.log" --no-chdir --detach --disable-system
ip link add gntlb type bridge
ip link set gntlb up

# An OS definition that does nothing (instances are added with --no-install).
mkdir -p /srv/ganeti/os/noop
echo 20 >/srv/ganeti/os/noop/ganeti_api_version
: >/srv/ganeti/os/noop/parameters.list
for s in create export import rename verify; do
  printf '#!/bin/sh\nexit 0\n' >"/srv/ganeti/os/noop/$s"
  chmod 0755 "/srv/ganeti/os/noop/$s"
done

echo READY
reap
