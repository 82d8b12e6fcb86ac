//! Opening a page in the user's browser (the card payment page of `buy --card`).

use std::io::IsTerminal;
use std::process::{Command, Stdio};

/// Asks the desktop to open `url`: `$BROWSER` when set, else `xdg-open` (`open` on macOS).
/// Only from an interactive terminal (a script or a test never gets a browser popping up).
/// Returns whether a browser was started; the caller prints the address either way.
pub(crate) fn open(url: &str) -> bool {
    if !std::io::stderr().is_terminal() {
        return false;
    }
    let program = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".into()
            } else {
                "xdg-open".into()
            }
        });
    Command::new(program)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok()
}
