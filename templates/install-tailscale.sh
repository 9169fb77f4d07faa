# install-tailscale.sh: install the Tailscale client when it is missing.
# @var OS: uname -s, lowercased (linux, darwin)
# @var INSTALL_URL: the Linux install script (a mirror for air-gapped sites)
# Result: changed when Tailscale was installed; unchanged when it was there.
set -eu
command -v tailscale >/dev/null 2>&1 && { result false 'tailscale is installed'; exit 0; }
case "$OS" in
  linux)
    command -v curl >/dev/null 2>&1 || { echo "curl is needed to install Tailscale" >&2; exit 1; }
    curl --proto =https --tlsv1.2 --globoff -fsSL "$INSTALL_URL" | as_root sh ;;
  darwin)
    command -v brew >/dev/null 2>&1 || { echo "Homebrew is needed to install Tailscale on macOS (https://brew.sh)" >&2; exit 1; }
    brew install tailscale && sudo -n brew services start tailscale ;;
  *) echo "installing Tailscale on $OS is not supported yet" >&2; exit 1 ;;
esac
command -v tailscale >/dev/null 2>&1 || { echo "the install script finished but no tailscale command is on PATH" >&2; exit 1; }
result true 'tailscale installed'
