# The Debian mirror this machine's apt uses (CAPWISE_VM_MIRROR overrides it), without a trailing
# slash, in $mirror: sourced by the VM scripts, which fetch kernels and arm64 roots from it.
mirror=${CAPWISE_VM_MIRROR:-$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
  /etc/apt/sources.list.d/ 2>/dev/null | head -1 | tr -d ' ' || true)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
