// What install.sh (ovs-vif-setup --ganeti) writes at /etc/ganeti/kvm-vif-bridge
// (its KVM_SCRIPT_TEXT): a script, not a link, because Ganeti copies that
// file's content to every node. The tests expect exactly this text.
export const KVM_TARGET = "/usr/lib/ovs-vif/kvm-vif-bridge";
export const KVM_SCRIPT_TEXT = `#!/bin/sh\n# ovs-vif: Ganeti copies this file to every node, so it stays this small.\nexec ${KVM_TARGET} "$@"\n`;
