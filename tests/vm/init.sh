#!/bin/busybox sh
# /init of the guest (busybox, from the initramfs): load the 9p modules, mount the host's root
# filesystem read-only as the guest's root, give it private /tmp and /run, and run the tests.
# No tracefs, no debugfs: the guest has what a fresh host has. Whatever happens, power off.
export PATH=/bin
busybox mkdir -p /proc /sys /dev /host
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev
for m in $(busybox cat /modules/order); do
  busybox insmod "/modules/$m.ko" || echo "CAPWISE-VM: insmod $m failed"
done
if ! busybox mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro \
    hostroot /host; then
  echo "CAPWISE-VM: cannot mount the host's root over 9p"
  busybox poweroff -f
fi
# The new root is a tmpfs holding the host's top-level directories bound from 9p (mounts on the
# 9p tree itself do not show through it), and the guest's own proc, sys, dev, tmp and run.
busybox mkdir -p /newroot
busybox mount -t tmpfs tmpfs /newroot
for entry in /host/* /host/.[!.]*; do
  name=${entry#/host/}
  [ -e "$entry" ] || [ -L "$entry" ] || continue
  if [ -L "$entry" ]; then
    busybox ln -s "$(busybox readlink "$entry")" "/newroot/$name"
  elif [ -d "$entry" ]; then
    busybox mkdir -p "/newroot/$name"
    case $name in
      proc|sys|dev|tmp|run) ;;
      *) busybox mount --bind "$entry" "/newroot/$name" ;;
    esac
  fi
done
busybox mount -t proc proc /newroot/proc
busybox mount -t sysfs sysfs /newroot/sys
# As systemd mounts it on the machines capwise runs on: runc (--verify) puts containers there.
busybox mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup
busybox mount -t devtmpfs devtmpfs /newroot/dev
for d in tmp run var/tmp root; do busybox mount -t tmpfs tmpfs "/newroot/$d"; done
busybox chmod 1777 /newroot/tmp /newroot/var/tmp
for path in $(busybox cat /binds); do
  # (Debian's busybox-static has no mountpoint applet: /proc/mounts says it.)
  if ! busybox grep -q " /newroot$path " /proc/mounts; then
    busybox mkdir -p "/newroot$path" && busybox mount --bind "/host$path" "/newroot$path" ||
      echo "CAPWISE-VM: cannot show $path to the guest"
  fi
done
# switch_root, not chroot: a chrooted process may not create user namespaces (the tests do).
# The guest script powers off through sysrq when it ends (the initramfs is gone by then); PID 1
# then spins rather than exit, which would panic the kernel while it powers off.
exec busybox switch_root /newroot /bin/sh -c \
  'sh "$0" "$1"; echo "CAPWISE-VM: guest script exited $?"; sync; echo o >/proc/sysrq-trigger; while :; do :; done' \
  "$(busybox cat /guest-script)" "$(busybox cat /guest-args)"
