#!/usr/bin/env bash
# install.sh - install (or remove) the ovs-vif multi-call binary and the
# symlinks through which Xen, Ganeti and QEMU invoke it.
#
# The binary dispatches on the basename/path of argv0, so every hook location
# is just a symlink to /usr/lib/ovs-vif/ovs-vif. Link targets are always the
# absolute path in the installed system (never prefixed with --root).
# One exception: /etc/ganeti/kvm-vif-bridge is a two-line script running
# /usr/lib/ovs-vif/kvm-vif-bridge (a link to the binary), because Ganeti
# copies that file's content to every node (gnt-node add, gnt-cluster
# redist-conf): a link would become a copy of the whole binary there, left
# behind by the next upgrade.
#
# --links-only (the default when this script runs as ovs-vif-setup, the name
# the Debian package installs it under) manages the hook links only: the
# binary and /usr/sbin/ovs-vif then belong to the package and are never
# written or removed here, and Xen's /etc/xen/scripts/vif-openvswitch (a
# conffile of xen-utils-common) is replaced only when asked for with
# --replace-vif-openvswitch; otherwise the xl setting to use is printed.
#
# The script first builds a complete plan (checking for conflicts), and only
# then executes it, so a conflict aborts before anything has been changed.
# --dry-run prints exactly the plan that a real run would execute.
set -euo pipefail

PROG=${0##*/}
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

LIBDIR=/usr/lib/ovs-vif
BIN_TARGET=$LIBDIR/ovs-vif          # what every link points at
SBIN_LINK=/usr/sbin/ovs-vif
MANIFEST=$LIBDIR/created-dirs       # directories this script created
LINKS_MANIFEST=/var/lib/ovs-vif/setup-created-dirs   # the same, in --links-only mode
XEN_SCRIPT=$LIBDIR/vif-openvswitch  # the package's link for xl's script= (--links-only)
KVM_SCRIPT=/etc/ganeti/kvm-vif-bridge
KVM_TARGET=$LIBDIR/kvm-vif-bridge   # the link the script runs (the package's; install.sh makes it)
KVM_SCRIPT_TEXT="#!/bin/sh
# ovs-vif: Ganeti copies this file to every node, so it stays this small.
exec $KVM_TARGET \"\$@\""
BACKUP_SUFFIX=.ovs-vif-orig

XEN_LINKS=() GANETI_LINKS=() QEMU_LINKS=()

# The hook locations are the binary's (its role registry, src/roles.ts):
# `ovs-vif hook-locations` prints "INTEGRATION PATH [script]" a line. Asked of
# the binary being installed, else of the installed one; OVS_VIF_SETUP_BINARY
# names another (the package build asks the binary it packages).
# Undoing without a binary to ask (it was removed by hand): ovs-vif's own
# links and kvm-vif-bridge script, and the backups beside them, wherever a
# version of it put them.
scan_locations() {
  local f path
  local -A seen=()
  while IFS= read -r -d '' f; do
    path=${f#"$ROOT"}
    path=${path%"$BACKUP_SUFFIX"}
    [[ $f == *"$BACKUP_SUFFIX" ]] || is_ours "$f" || continue
    [[ -z ${seen[$path]+x} ]] || continue
    seen[$path]=1
    case $path in
      /etc/xen/scripts/vif-openvswitch) XEN_LINKS+=("$path") ;;
      /etc/ovs-vif/*) QEMU_LINKS+=("$path") ;;
      *) GANETI_LINKS+=("$path") ;;
    esac
  done < <(find "$ROOT/etc/xen/scripts" "$ROOT/etc/ganeti" "$ROOT/etc/ovs-vif" \( -type l -o -type f \) -print0 2>/dev/null | sort -zu)
}

load_locations() {
  local bin="" b integration path rest
  for b in "${OVS_VIF_SETUP_BINARY:-}" "$@"; do
    [[ -n $b && -f $b && -x $b ]] && { bin=$b; break; }
  done
  if [[ -z $bin ]]; then
    ((UNINSTALL && !LIST)) && { scan_locations; return; }
    die "cannot tell the hook locations: no ovs-vif binary at ${*} (run 'npm run build', pass --binary PATH, or install the package)"
  fi
  local listing
  listing=$("$bin" hook-locations) || die "$bin hook-locations failed"
  while read -r integration path rest; do
    [[ $path == /* && $path != *..* ]] || die "$bin hook-locations: not an absolute path: $path"
    case $integration in
      xen) XEN_LINKS+=("$path") ;;
      ganeti) GANETI_LINKS+=("$path") ;;
      qemu) QEMU_LINKS+=("$path") ;;
      *) die "$bin hook-locations: unknown integration $integration" ;;
    esac
  done <<<"$listing"
  ((${#GANETI_LINKS[@]})) || die "$bin hook-locations: no Ganeti hook location"
}

usage() {
  if ((LINKS_ONLY)); then
    cat <<EOF
Usage: $PROG --ganeti|--xen|--qemu... [--replace-vif-openvswitch] [--undo]
            [--dry-run] [--root DIR]
       $PROG --list | --help

Enables (or, with --undo, disables) the hooks of the selected integrations
by linking their hook locations to $BIN_TARGET, which the
ovs-vif package installs. Nothing else is changed, and the package's
maintainer scripts never enable anything.

  --ganeti       Ganeti's NIC scripts (KVM: /etc/ganeti/kvm-vif-bridge and
                 network/MODE/ACTION; Xen: /etc/xen/scripts/vif-custom) and
                 its hooks (/etc/ganeti/hooks/PATH-post.d/ovs-vif)
  --qemu         QEMU's -netdev tap scripts in /etc/ovs-vif
  --xen          changes nothing: prints the xl setting that runs ovs-vif,
                 vif.default.script="$XEN_SCRIPT"
                 in /etc/xen/xl.conf (or script= per vif)
  --replace-vif-openvswitch
                 (implies --xen) replace /etc/xen/scripts/vif-openvswitch, a
                 conffile of xen-utils-common, by a link; dpkg then reports
                 that conffile as modified

A file already at a hook location is moved to NAME$BACKUP_SUFFIX first
(only if no such backup exists) and put back by --undo.

  --undo         remove our links (all of them if no --xen/--ganeti/--qemu),
                 put backups back, and remove the directories this command
                 created once they are empty (also: --uninstall); a file
                 a Debian package owns (dpkg -S) is never removed
  --dry-run      print the actions, change nothing
  --root DIR     prefix every path with DIR (tests, images); DIR must exist
  --list         print every hook location, one "INTEGRATION PATH" a line
  --help         show this help
EOF
    return
  fi
  cat <<EOF
Usage: $PROG [--root DIR] [--dry-run] [--uninstall] [--xen] [--ganeti] [--qemu]
            [--binary PATH] [--links-only] [--list] [--help]

Installs the ovs-vif binary to $BIN_TARGET (atomically) with a
$SBIN_LINK symlink, plus hook symlinks for the selected integrations:

  --xen          Xen's /etc/xen/scripts/vif-openvswitch
  --ganeti       Ganeti's NIC scripts (KVM: /etc/ganeti/kvm-vif-bridge and
                 network/MODE/ACTION; Xen: /etc/xen/scripts/vif-custom) and
                 its hooks (/etc/ganeti/hooks/PATH-post.d/ovs-vif)
  --qemu         QEMU's -netdev tap scripts in /etc/ovs-vif
--list prints every location (the binary's role registry says which).

A file already at a hook location is moved to NAME$BACKUP_SUFFIX first
(only if no such backup exists) and restored by --uninstall.

  --root DIR     prefix every path with DIR (packaging, tests); DIR must exist
  --binary PATH  binary to install (default: dist/ovs-vif next to this script)
  --dry-run      print the actions, change nothing
  --uninstall    remove our links (all of them if no --xen/--ganeti/--qemu),
                 restore backups, remove the binary once nothing links to it,
                 and remove now-empty directories this script created
                 (also: --undo); with the ovs-vif package installed (dpkg -S
                 names it the binary's owner) it refuses: remove the package
                 with apt, and a file any package owns is never removed
  --links-only   the links only, for a binary the Debian package installed
                 (what ovs-vif-setup runs; see --links-only --help)
  --list         print every hook location, one "INTEGRATION PATH" a line
  --help         show this help
EOF
}

# Every message is one line, its control characters escaped as ovs-vif's
# own error lines have them (\n, \r, \t, \xHH; DEL, C1 and the bidirectional
# controls too), whatever a path or an argument in it holds: a \r cannot hide
# the message, a newline cannot add a line. Only messages pay for the perl
# (Essential: perl-base).
esc() {
  if ! command -v perl >/dev/null 2>&1; then printf '%s' "$1"; return; fi
  # Bytes, so that a name that is no valid UTF-8 is shown too; the C1 and
  # bidirectional controls by their UTF-8 encodings.
  printf '%s' "$1" | perl -0777 -pe '
    sub cp { my @b = map { ord } split //, shift; return @b == 1 ? $b[0] : @b == 2 ? (($b[0] & 0x1f) << 6) | ($b[1] & 0x3f) : (($b[0] & 0x0f) << 12) | (($b[1] & 0x3f) << 6) | ($b[2] & 0x3f) }
    s/(\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]|[\x00-\x1f\x7f])/my $c = cp($1); $c == 10 ? "\\n" : $c == 13 ? "\\r" : $c == 9 ? "\\t" : $c < 0x100 ? sprintf("\\x%02x", $c) : sprintf("\\u%04x", $c)/ge'
}
die() { echo "$PROG: $(esc "$*")" >&2; exit 1; }
usage_error() { echo "$PROG: $(esc "$*") (see --help)" >&2; exit 2; }
# While the plan is made, warnings wait: a run that is refused says only why.
PLANNING=0 WARNINGS=()
warn() {
  if ((PLANNING)); then WARNINGS+=("$*"); return; fi
  echo "$PROG: warning: $(esc "$*")" >&2
}

# ---------------------------------------------------------------- options
ROOT=""
ROOT_SET=0
DRY_RUN=0
UNINSTALL=0
SEL_XEN=0
SEL_GANETI=0
SEL_QEMU=0
BINARY="$SCRIPT_DIR/dist/ovs-vif"
BINARY_SET=0
REPLACE_XEN=0
LIST=0
HELP=0
# Installed by the Debian package as ovs-vif-setup: the links only.
LINKS_ONLY=0
[[ $PROG == ovs-vif-setup ]] && LINKS_ONLY=1

while (($#)); do
  case $1 in
    --root) (($# >= 2)) || usage_error "--root needs a directory argument"
            ROOT=$2; ROOT_SET=1; shift ;;
    --root=*) ROOT=${1#--root=}; ROOT_SET=1 ;;
    --binary) (($# >= 2)) || usage_error "--binary needs a path argument"
              BINARY=$2; BINARY_SET=1; shift ;;
    --binary=*) BINARY=${1#--binary=}; BINARY_SET=1 ;;
    --dry-run) DRY_RUN=1 ;;
    --uninstall|--undo) UNINSTALL=1 ;;
    --xen) SEL_XEN=1 ;;
    --replace-vif-openvswitch) SEL_XEN=1; REPLACE_XEN=1 ;;
    --ganeti) SEL_GANETI=1 ;;
    --qemu) SEL_QEMU=1 ;;
    --links-only) LINKS_ONLY=1 ;;
    --list) LIST=1 ;;
    -h|--help) HELP=1 ;;
    --) shift; (($# == 0)) || usage_error "unexpected argument: $1"; break ;;
    -*) usage_error "unknown option: $1" ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
  shift
done

if ((HELP)); then usage; exit 0; fi

# A path with a control character in it is refused, not shown or used.
has_control() { LC_ALL=C; [[ $1 == *[[:cntrl:]]* ]]; }
if ((ROOT_SET)) && has_control "$ROOT"; then usage_error "--root $ROOT: contains a control character"; fi
if ((BINARY_SET)) && has_control "$BINARY"; then usage_error "--binary $BINARY: contains a control character"; fi

if ((ROOT_SET)); then
  [[ -n $ROOT && -d $ROOT ]] || die "--root $ROOT: not a directory"
  ROOT=$(cd -- "$ROOT" && pwd)
  [[ $ROOT == / ]] && ROOT=""
fi

# The locations of this run's binary: the installed one for the links, the
# one being installed (else the installed one) from a checkout.
locations() {
  if ((LINKS_ONLY)); then
    load_locations "$ROOT$BIN_TARGET"
  elif ((UNINSTALL)); then
    load_locations "$ROOT$BIN_TARGET" "$BINARY"
  else
    load_locations "$BINARY" "$ROOT$BIN_TARGET"
  fi
}
if ((LIST)); then
  locations
  for l in "${XEN_LINKS[@]}"; do echo "xen $l"; done
  for l in "${GANETI_LINKS[@]}"; do echo "ganeti $l"; done
  for l in "${QEMU_LINKS[@]}"; do echo "qemu $l"; done
  exit 0
fi

if ((LINKS_ONLY)); then
  ((!BINARY_SET)) || usage_error "--binary: with --links-only the links point at the installed $BIN_TARGET"
  ((UNINSTALL || SEL_XEN || SEL_GANETI || SEL_QEMU)) || usage_error "nothing selected: give --ganeti, --xen and/or --qemu"
  if ((!UNINSTALL)); then
    [[ -f $ROOT$BIN_TARGET && -x $ROOT$BIN_TARGET ]] || die "$ROOT$BIN_TARGET: not installed (install the ovs-vif package first)"
  fi
  MANIFEST=$LINKS_MANIFEST
elif ((!UNINSTALL)); then
  [[ -e $BINARY ]] || die "binary not found: $BINARY (run 'npm run build' or pass --binary PATH)"
  [[ -f $BINARY ]] || die "binary is not a regular file: $BINARY"
  [[ -r $BINARY ]] || die "binary is not readable: $BINARY"
fi

umask 022

# ---------------------------------------------------------------- planning
# The plan is a list of actions (OP, A, B). While planning, the effect of
# earlier planned actions is tracked so that later checks see the state the
# filesystem will be in (needed for --dry-run, and to check before acting).
OPS=() ARG_A=() ARG_B=()
ERRORS=()
declare -A GONE=()      # paths the plan removes (or moves away)
declare -A MADE=()      # directories the plan creates
NEW_DIRS=()             # the same, in creation order (for the manifest)

plan() { OPS+=("$1"); ARG_A+=("$2"); ARG_B+=("${3:-}"); }
conflict() { ERRORS+=("$*"); }

exists() { [[ -e $1 || -L $1 ]] && [[ -z ${GONE[$1]+x} ]]; }
is_our_symlink() { [[ -L $1 && $(readlink -- "$1") == "$BIN_TARGET" ]]; }
is_our_script() { [[ -f $1 && ! -L $1 && $(<"$1") == "$KVM_SCRIPT_TEXT" ]]; }
# Ours: a link to the binary, or at kvm-vif-bridge the script.
is_ours() { is_our_symlink "$1" || { [[ $1 == "$ROOT$KVM_SCRIPT" ]] && is_our_script "$1"; }; }

# plan_dir SYSDIR: make sure $ROOT$SYSDIR will exist.
plan_dir() {
  local d=$ROOT$1 p missing=()
  [[ -d $d || -n ${MADE[$d]+x} ]] && return 0
  p=$d
  while [[ -n $p && ! -d $p && -z ${MADE[$p]+x} ]]; do
    if [[ -e $p || -L $p ]]; then
      conflict "${p}: exists and is not a directory"
      return 0
    fi
    missing=("$p" "${missing[@]}")
    p=${p%/*}
  done
  plan mkdir "$d"
  for p in "${missing[@]}"; do
    MADE[$p]=1
    NEW_DIRS+=("${p#"$ROOT"}")
  done
}

# plan_link SYSPATH: make $ROOT$SYSPATH a symlink to $BIN_TARGET, backing up
# whatever is there (once).
plan_link() {
  local l=$ROOT$1 b=$ROOT$1$BACKUP_SUFFIX
  if [[ $1 == "$KVM_SCRIPT" ]]; then
    is_our_script "$l" && return 0
    # An earlier install's link: replaced, nothing to keep.
    if is_our_symlink "$l"; then
      plan script "$l"
      return 0
    fi
  elif is_ours "$l"; then
    return 0
  fi
  plan_dir "${1%/*}"
  if [[ -d $l && ! -L $l ]]; then
    conflict "${l}: is a directory"
    return 0
  fi
  if exists "$l"; then
    if ! exists "$b"; then
      plan backup "$l" "$b"
      GONE[$l]=1
    elif [[ -f $l && ! -L $l && -f $b && ! -L $b ]] && cmp -s -- "$l" "$b"; then
      # Same content as the backup we already hold (e.g. re-shipped by a
      # package upgrade): nothing is lost by replacing it.
      plan rm "$l"
      GONE[$l]=1
    else
      conflict "${l}: exists and differs from existing backup $b; move one of them aside"
      return 0
    fi
  fi
  if [[ $1 == "$KVM_SCRIPT" ]]; then plan script "$l"; else plan link "$BIN_TARGET" "$l"; fi
}

plan_binary() {
  local dst=$ROOT$BIN_TARGET
  plan_dir "$LIBDIR"
  if [[ -d $dst && ! -L $dst ]]; then
    conflict "${dst}: is a directory"
    return 0
  fi
  if [[ -f $dst && ! -L $dst && $(stat -c %a -- "$dst") == 755 ]] && cmp -s -- "$BINARY" "$dst"; then
    return 0
  fi
  plan install "$BINARY" "$dst"
}

# plan_unlink SYSPATH: remove our link, restore the backup.
plan_unlink() {
  local l=$ROOT$1 b=$ROOT$1$BACKUP_SUFFIX
  if is_ours "$l"; then
    plan rm "$l"
    GONE[$l]=1
  elif exists "$l"; then
    exists "$b" && warn "$l is not our link; leaving it and $b alone"
    return 0
  fi
  if exists "$b"; then
    plan restore "$b" "$l"
    GONE[$b]=1
    unset "GONE[$l]"
  fi
}

# would_be_empty DIR: DIR holds nothing once the plan has run.
would_be_empty() {
  local e
  while IFS= read -r -d '' e; do
    [[ -n ${GONE[$e]+x} ]] || return 1
  done < <(find "$1" -mindepth 1 -maxdepth 1 -print0)
  return 0
}

# A file a Debian package owns (dpkg -S, with --root inside ROOT; no dpkg,
# or no package database there: none) is never removed here: a removal that puts our backup
# of it back (the undo of a replaced script) or replaces it with our link is
# no removal. install.sh on a node with the package installed would take
# the package's binary away, so there it refuses outright.
declare -A OWNER=()
query_owners() {
  (($#)) || return 0
  command -v dpkg >/dev/null 2>&1 || return 0
  local out line
  if [[ -n $ROOT ]]; then
    # Without a package database under ROOT, dpkg finds nothing there.
    out=$(dpkg --root="$ROOT" -S "$@" 2>/dev/null) || true
  else
    out=$(dpkg -S "$@" 2>/dev/null) || true
  fi
  while IFS= read -r line; do
    # "pkg: PATH" or "pkg1, pkg2: PATH"; "diversion by ..." lines own nothing.
    [[ $line == "diversion "* || $line != *": /"* ]] && continue
    OWNER[/${line#*: /}]=${line%%: /*}
  done <<<"$out"
}
# install.sh (not as ovs-vif-setup) on a node where a package owns the
# binary: it would replace or remove the package's binary and links.
if ((!LINKS_ONLY)); then
  query_owners "$BIN_TARGET"
  if [[ -n ${OWNER[$BIN_TARGET]+x} ]]; then
    die "$BIN_TARGET belongs to the Debian package ${OWNER[$BIN_TARGET]}: install.sh neither replaces nor removes it (ovs-vif-setup manages the hooks of the package's binary; apt remove ${OWNER[$BIN_TARGET]} removes it); nothing changed"
  fi
fi

LINKS=()
PLANNING=1
# Links only: Xen's own script is replaced only on request (--replace-vif-openvswitch).
locations
if ((SEL_XEN && (!LINKS_ONLY || REPLACE_XEN || UNINSTALL))); then LINKS+=("${XEN_LINKS[@]}"); fi
((SEL_GANETI)) && LINKS+=("${GANETI_LINKS[@]}")
((SEL_QEMU)) && LINKS+=("${QEMU_LINKS[@]}")

if ((LINKS_ONLY)); then
  if ((!UNINSTALL)); then
    for l in ${LINKS[@]+"${LINKS[@]}"}; do plan_link "$l"; done
  else
    ((SEL_XEN || SEL_GANETI || SEL_QEMU)) || LINKS=("${XEN_LINKS[@]}" "${GANETI_LINKS[@]}" "${QEMU_LINKS[@]}")
    for l in "${LINKS[@]}"; do plan_unlink "$l"; done
  fi
elif ((!UNINSTALL)); then
  plan_binary
  plan_link "$SBIN_LINK"
  plan_link "$KVM_TARGET"
  # The spec and defaults, and the state (the view the master exports to the
  # nodes with gnt-cluster copyfile, which needs the directory there).
  plan_dir /etc/ovs-vif
  plan_dir /var/lib/ovs-vif
  for l in ${LINKS[@]+"${LINKS[@]}"}; do plan_link "$l"; done
else
  OTHERS=()
  if ((!SEL_XEN && !SEL_GANETI && !SEL_QEMU)); then
    LINKS=("${XEN_LINKS[@]}" "${GANETI_LINKS[@]}" "${QEMU_LINKS[@]}")
  else
    ((SEL_XEN)) || OTHERS+=("${XEN_LINKS[@]}")
    ((SEL_GANETI)) || OTHERS+=("${GANETI_LINKS[@]}")
    ((SEL_QEMU)) || OTHERS+=("${QEMU_LINKS[@]}")
  fi
  for l in "${LINKS[@]}"; do plan_unlink "$l"; done

  # The binary goes only when no hook outside the selection still uses it.
  # (vif-custom is in the ganeti set, so it is never kept by --xen alone.)
  KEEP_BINARY=""
  for l in ${OTHERS[@]+"${OTHERS[@]}"}; do
    if is_ours "$ROOT$l"; then KEEP_BINARY=$ROOT$l; break; fi
  done
  if [[ -n $KEEP_BINARY ]]; then
    if exists "$ROOT$BIN_TARGET"; then
      warn "keeping $ROOT$BIN_TARGET: still linked from $KEEP_BINARY"
    fi
  else
    plan_unlink "$SBIN_LINK"
    plan_unlink "$KVM_TARGET"
    if exists "$ROOT$BIN_TARGET" && ! [[ -d $ROOT$BIN_TARGET && ! -L $ROOT$BIN_TARGET ]]; then
      plan rm "$ROOT$BIN_TARGET"
      GONE[$ROOT$BIN_TARGET]=1
    fi
    BINARY_GONE=1
    if exists "$ROOT$MANIFEST" && [[ -f $ROOT$MANIFEST ]]; then
      plan rm "$ROOT$MANIFEST"
      GONE[$ROOT$MANIFEST]=1
    fi
  fi
fi

if ((UNINSTALL)); then
  # Remove directories this script created, deepest first, when they are
  # empty after the plan and lie above something this run removed.
  BINARY_GONE=${BINARY_GONE:-0}
  if [[ -f $ROOT$MANIFEST ]]; then
    mapfile -t CREATED < <(grep '^/' "$ROOT$MANIFEST" | sort -ru)
    for d in ${CREATED[@]+"${CREATED[@]}"}; do
      dd=$ROOT$d
      [[ -d $dd && ! -L $dd && -z ${GONE[$dd]+x} ]] || continue
      touched=0
      # The spec and state directories belong to the binary: they go with it (when empty).
      if [[ $d == /etc/ovs-vif || $d == /var/lib/ovs-vif ]]; then
        ((BINARY_GONE)) || continue
        touched=1
      fi
      for g in "${!GONE[@]}"; do
        if [[ $g == "$dd"/* ]]; then touched=1; break; fi
      done
      ((touched)) || continue
      if would_be_empty "$dd"; then
        plan rmdir "$dd"
        GONE[$dd]=1
      fi
    done
  fi
fi

REMOVED=()
declare -A REPLACED=()
for i in "${!OPS[@]}"; do
  case ${OPS[$i]} in restore | link) REPLACED[${ARG_B[$i]}]=1 ;; script) REPLACED[${ARG_A[$i]}]=1 ;; esac
done
for i in "${!OPS[@]}"; do
  [[ ${OPS[$i]} == rm && -z ${REPLACED[${ARG_A[$i]}]+x} ]] && REMOVED+=("${ARG_A[$i]#"$ROOT"}")
done
query_owners ${REMOVED[@]+"${REMOVED[@]}"}
OWNED=() OWNERS=()
for path in ${REMOVED[@]+"${REMOVED[@]}"}; do
  [[ -n ${OWNER[$path]+x} ]] || continue
  OWNED+=("$path")
  [[ " ${OWNERS[*]-} " == *" ${OWNER[$path]} "* ]] || OWNERS+=("${OWNER[$path]}")
done
if ((${#OWNED[@]})); then
  pkgs=$(printf '%s, ' "${OWNERS[@]}")
  pkgs=${pkgs%, }
  if [[ " ${OWNERS[*]} " == *" ovs-vif "* ]]; then how="remove them with the package (apt remove ovs-vif)"
  else how="a package's file is that package's to remove (apt remove ${OWNERS[*]}) or to put back (apt install --reinstall ${OWNERS[*]})"; fi
  list=$(printf '%s, ' "${OWNED[@]}")
  die "${list%, } belong$( ((${#OWNED[@]} == 1)) && echo s) to the Debian package$( ((${#OWNERS[@]} > 1)) && echo s) $pkgs: not removed here; $how; nothing changed"
fi

if ((${#ERRORS[@]})); then
  die "$(printf '%s; ' "${ERRORS[@]}")nothing changed"
fi
PLANNING=0
for w in ${WARNINGS[@]+"${WARNINGS[@]}"}; do warn "$w"; done

# What --links-only says about Xen, after its actions (or their dry run).
xen_advice() {
  ((LINKS_ONLY && SEL_XEN && !UNINSTALL)) || return 0
  if ((REPLACE_XEN)); then
    cat <<EOF
xen: ${XEN_LINKS[0]} is a conffile of xen-utils-common: dpkg
xen: now reports it as modified, and an upgrade of xen-utils-common that changes
xen: it keeps this link and writes vif-openvswitch.dpkg-new beside it.
xen: '$PROG --undo --xen' puts the stock script back.
EOF
  else
    cat <<EOF
xen: ${XEN_LINKS[0]} (a conffile of xen-utils-common) is left as it is.
xen: to run ovs-vif for every vif, set in /etc/xen/xl.conf:
xen:   vif.default.script="$XEN_SCRIPT"
xen: or for one vif, in its domain configuration:
xen:   vif = [ 'bridge=BR,script=$XEN_SCRIPT' ]
xen: (to replace the stock script in place instead: $PROG --replace-vif-openvswitch)
EOF
  fi
}

if ((${#OPS[@]} == 0)); then
  echo "nothing to do"
  xen_advice
  exit 0
fi

# ---------------------------------------------------------------- execution
TMP=""
cleanup() { if [[ -n $TMP ]]; then rm -f -- "$TMP"; fi; }
trap cleanup EXIT

tmp_beside() { TMP="$(dirname -- "$1")/.$(basename -- "$1").ovs-vif-tmp.$$"; rm -f -- "$TMP"; }

absent_or_die() { if [[ -e $1 || -L $1 ]]; then die "$1 appeared while installing; stopping"; fi; }

run_action() {
  local op=$1 a=$2 b=$3
  case $op in
    mkdir)
      echo "mkdir -p $a"
      ((DRY_RUN)) || mkdir -p -- "$a" ;;
    install)
      echo "install -m 0755 $a $b"
      if ((!DRY_RUN)); then
        # Write beside the target and rename over it: a VM starting right
        # now runs either the old or the new binary, never a partial one.
        tmp_beside "$b"
        install -m 0755 -- "$a" "$TMP"
        mv -fT -- "$TMP" "$b"
        TMP=""
      fi ;;
    script)
      echo "write $a (exec $KVM_TARGET)"
      if ((!DRY_RUN)); then
        tmp_beside "$a"
        printf '%s\n' "$KVM_SCRIPT_TEXT" >"$TMP"
        chmod 0755 -- "$TMP"
        mv -fT -- "$TMP" "$a"
        TMP=""
      fi ;;
    link)
      echo "ln -sfn $a $b"
      if ((!DRY_RUN)); then
        tmp_beside "$b"
        ln -sfn -- "$a" "$TMP"
        mv -fT -- "$TMP" "$b"
        TMP=""
      fi ;;
    backup|restore)
      echo "mv $a $b"
      if ((!DRY_RUN)); then
        absent_or_die "$b"
        mv -T -- "$a" "$b"
      fi ;;
    rm)
      echo "rm -f $a"
      ((DRY_RUN)) || rm -f -- "$a" ;;
    rmdir)
      echo "rmdir $a"
      ((DRY_RUN)) || rmdir -- "$a" ;;
    *) die "internal error: unknown action $op" ;;
  esac
}

for i in "${!OPS[@]}"; do
  run_action "${OPS[$i]}" "${ARG_A[$i]}" "${ARG_B[$i]}"
done

if ((DRY_RUN)); then xen_advice; exit 0; fi

# Bookkeeping: remember the directories we created (install), or forget the
# ones we removed while the binary stays (partial uninstall). The manifest
# itself is removed together with the binary (--links-only: when it lists
# nothing any more; its directory is the package's).
update_manifest() {
  local m=$ROOT$MANIFEST
  if ((LINKS_ONLY)) && [[ ! -d ${m%/*} ]]; then mkdir -p -- "${m%/*}"; fi
  [[ -d ${m%/*} ]] || return 0
  tmp_beside "$m"
  {
    if [[ -f $m ]]; then grep '^/' "$m" || true; fi
    if (($#)); then printf '%s\n' "$@"; fi
  } | sort -u | while IFS= read -r d; do
    if [[ -d $ROOT$d ]]; then printf '%s\n' "$d"; fi
  done >"$TMP"
  chmod 0644 -- "$TMP"
  if ((LINKS_ONLY)) && [[ ! -s $TMP ]]; then
    rm -f -- "$TMP" "$m"
  elif [[ -f $m ]] && cmp -s -- "$TMP" "$m"; then
    rm -f -- "$TMP"
  else
    mv -fT -- "$TMP" "$m"
  fi
  TMP=""
}

if ((!UNINSTALL)); then
  ((${#NEW_DIRS[@]} == 0)) || update_manifest "${NEW_DIRS[@]}"
elif [[ -f $ROOT$MANIFEST ]]; then
  update_manifest
fi

xen_advice
