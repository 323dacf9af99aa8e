#!/bin/bash
# ganeti-cluster.sh T NODE NODE_IP
#
# Runs as PID 1 of fresh mount + network + UTS + PID namespaces (started by
# ganeti-cluster.ts through `unshare`), and makes the node private there:
# everything Ganeti and Open vSwitch write at their fixed system paths lands
# in the temp dir T or in tmpfs, and vanishes with the namespaces.
#
#   /sys                 a fresh sysfs (this network namespace's /sys/class/net)
#   /run                 tmpfs (Ganeti's /var/run/ganeti, OVS's /var/run/openvswitch, /var/lock)
#   /etc/ganeti          T/root/etc/ganeti (a copy of the host's, plus install.sh --ganeti links)
#   /usr                 overlay: host /usr + T/root/usr (install.sh's /usr/lib/ovs-vif/ovs-vif)
#   /var/lib/ganeti      T/varlib
#   /var/log/ganeti      T/varlog
#   /root/.ssh           T/ssh
#   /srv                 tmpfs (/srv/ganeti/os/noop: the no-op OS definition)
#   /etc/hosts           T/hosts (the host's plus the node and cluster names)
#   /etc/ovs-vif         an empty tmpfs, when the host has that directory (the
#                        node's switches.json / defaults.json are the test's)
#   /dev/log             an empty file (no syslog from the private node)
#
# Network: veth gntv0 (NODE_IP/24, the master netdev) + gntv1; OVS (userspace
# datapath) with bridge gntbr and a trunk uplink gntup0; Linux bridge gntlb.
# Prints READY, then becomes a reaping init (orphaned Ganeti daemons and
# QEMU are reaped; a zombie would make Ganeti wait for it).
set -euo pipefail
T=$1 NODE=$2 NODE_IP=$3

mount -t tmpfs -o mode=0755 tmpfs /run
# sysfs shows the network namespace of whoever mounted it: remount it here
# (as `ip netns exec` does), or /sys/class/net would list the host's links.
mount -t sysfs sysfs /sys
mkdir -p /run/lock /run/openvswitch /run/ganeti /run/sshd
mount --bind "$T/root/etc/ganeti" /etc/ganeti
mount --bind "$T/varlib" /var/lib/ganeti
mount --bind "$T/varlog" /var/log/ganeti
mount --bind "$T/ssh" /root/.ssh
mount -t tmpfs -o mode=0755 tmpfs /srv
mount --bind "$T/hosts" /etc/hosts
if [[ -d /etc/ovs-vif ]]; then
  mount -t tmpfs -o mode=0755 tmpfs /etc/ovs-vif
fi
mount -t overlay overlay -o "lowerdir=/usr,upperdir=$T/root/usr,workdir=$T/work" /usr
# Syslog lines of this private node stay out of the host's log: a socket
# /dev/log is covered by an empty file (a symlink into /run now dangles).
if [[ -S /dev/log && ! -L /dev/log ]]; then
  : >"$T/devlog"
  mount --bind "$T/devlog" /dev/log
fi

hostname "$NODE"
ip link set lo up
ip link add gntv0 type veth peer name gntv1
ip addr add "$NODE_IP/24" dev gntv0
ip link set gntv0 up
ip link set gntv1 up

# Open vSwitch at its default paths (Ganeti and plain ovs-vsctl expect them).
R=/run/openvswitch
ovsdb-tool create $R/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server $R/conf.db --remote=punix:$R/db.sock --pidfile=$R/ovsdb-server.pid --log-file="$T/ovsdb-server.log" --no-chdir --detach
ovs-vsctl --no-wait init
ovs-vswitchd unix:$R/db.sock --pidfile=$R/ovs-vswitchd.pid --log-file="$T/ovs-vswitchd.log" --no-chdir --detach --disable-system
ovs-vsctl --timeout=20 add-br gntbr -- set bridge gntbr datapath_type=netdev
ip link add gntup0 type veth peer name gntup1
ip link set gntup0 up
ip link set gntup1 up
ovs-vsctl --timeout=20 add-port gntbr gntup0 -- set port gntup0 vlan_mode=trunk
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
exec python3 -c '
import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)
'
