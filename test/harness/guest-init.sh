#!/bin/busybox sh
# /init of the test guest's initramfs (test/harness/guest.ts builds it):
# busybox, the virtio-net and 802.1Q modules, and addresses from the kernel
# command line:
#   ovsvif.ip=ADDR/LEN       on eth0 (untagged: the port's native VLAN)
#   ovsvif.vlanN=ADDR/LEN    on eth0.N (tagged VLAN N)
#   ovsvif.ip1=ADDR/LEN      on eth1 once it appears (a NIC hot-added later)
#   ovsvif.shutdown=SECONDS  the ACPI power button (QMP system_powerdown)
#                            shuts the guest down: it keeps answering for
#                            SECONDS (as a clean shutdown takes its time),
#                            then powers off
# Then it idles; the test talks to it with pings only.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The modules guest.ts put there, in order (the kernel has the others built in).
for m in $(cat /lib/modules/load); do
  insmod "/lib/modules/$m.ko" || echo "ovsvif-guest: insmod $m failed"
done
ip link set lo up
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
ip link set eth0 up
for arg in $(cat /proc/cmdline); do
  case $arg in
  ovsvif.ip=*) ip addr add "${arg#ovsvif.ip=}" dev eth0 ;;
  ovsvif.vlan*=*)
    v=${arg%%=*}
    v=${v#ovsvif.vlan}
    ip link add link eth0 name "eth0.$v" type vlan id "$v"
    ip addr add "${arg#*=}" dev "eth0.$v"
    ip link set "eth0.$v" up
    ;;
  esac
done
for arg in $(cat /proc/cmdline); do
  case $arg in
  ovsvif.ip1=*)
    (
      while ! ip link show eth1 >/dev/null 2>&1; do sleep 0.2; done
      ip addr add "${arg#ovsvif.ip1=}" dev eth1
      ip link set eth1 up
      echo "ovsvif-guest: eth1 up"
    ) &
    ;;
  ovsvif.shutdown=*)
    # busybox acpid runs CONFDIR/PWRF/00000080 on the power button.
    mkdir -p /etc/acpi/PWRF
    printf '#!/bin/sh\necho "ovsvif-guest: power button: powering off in %s s" >/dev/console\nsleep %s\necho "ovsvif-guest: powering off" >/dev/console\npoweroff -f\n' "${arg#*=}" "${arg#*=}" >/etc/acpi/PWRF/00000080
    chmod 0755 /etc/acpi/PWRF/00000080
    mkdir -p /var/run
    acpid -d -c /etc/acpi >/dev/console 2>&1 &
    ;;
  esac
done
echo "ovsvif-guest: ready"
ip -o addr
while :; do sleep 3600; done
