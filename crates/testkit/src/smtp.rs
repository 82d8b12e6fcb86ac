//! A real SMTP server for tests: `aiosmtpd` (PyPI, installed into `.tools/venv` by
//! `scripts/bootstrap.sh`) with its `Mailbox` handler, which stores every message it accepts in
//! a Maildir the test reads back ([`SmtpSink::messages`]). One process per sink; it binds a free
//! port itself and names it, so no other process can take the port in between.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{TiedChild, die_with_parent};

/// The server: aiosmtpd's SMTP protocol on a port it picked (port 0), delivering into the
/// Maildir of `sys.argv[1]`. The hostname is fixed so that it never waits on a DNS lookup.
const SERVER: &str = r#"
import asyncio, sys
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP

async def main():
    loop = asyncio.get_running_loop()
    handler = Mailbox(sys.argv[1])
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.tangible.test"), "127.0.0.1", 0)
    print("listening on", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"#;

/// The Python with aiosmtpd: `$TANGIBLE_AIOSMTPD_PYTHON`, else `.tools/venv/bin/python` of the
/// clone whose crate is being tested (`bash scripts/bootstrap.sh` installs it).
pub fn aiosmtpd_python() -> PathBuf {
    if let Some(bin) = std::env::var_os("TANGIBLE_AIOSMTPD_PYTHON") {
        return PathBuf::from(bin);
    }
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .ancestors()
        .map(|d| d.join(".tools/venv/bin/python"))
        .find(|p| p.exists())
        .unwrap_or_else(|| manifest.join("../.tools/venv/bin/python"))
}

/// A running aiosmtpd storing what it receives in a Maildir of its own; killed on drop, and
/// when this process dies.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    dir: tempfile::TempDir,
    _child: TiedChild,
}

impl SmtpSink {
    /// Starts the server (blocking, up to 30 s) and waits until it accepts connections.
    pub fn start() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let python = aiosmtpd_python();
        let mut cmd = Command::new(&python);
        cmd.arg("-c")
            .arg(SERVER)
            .arg(dir.path().join("Maildir"))
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        die_with_parent(&mut cmd, libc::SIGKILL);
        let (child, stdout) = TiedChild::spawn("aiosmtpd", cmd).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "starting aiosmtpd with {} (run `bash scripts/bootstrap.sh` first): {e}",
                    python.display()
                ),
            )
        })?;
        let stdout = stdout.ok_or_else(|| std::io::Error::other("no stdout"))?;
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // The thread keeps draining stdout so that the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .strip_prefix("listening on ")
                    .and_then(|p| p.trim().parse::<u16>().ok())
                    && let Some(tx) = port_tx.take()
                {
                    let _ = tx.send(port);
                }
            }
        });
        let port = port_rx.recv_timeout(Duration::from_secs(30)).map_err(|_| {
            std::io::Error::other(format!(
                "aiosmtpd did not name its port in 30 s (is it installed in {}?)",
                python.display()
            ))
        })?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || child.exit_status().is_some() {
                return Err(std::io::Error::other("aiosmtpd did not listen"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self {
            port,
            dir,
            _child: child,
        })
    }

    /// The port the server listens on (127.0.0.1).
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// The URL a client connects with: plain SMTP on loopback, no TLS, no authentication.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    /// Every message accepted so far, raw (RFC 5322, with the `X-Peer`, `X-MailFrom` and
    /// `X-RcptTo` envelope headers aiosmtpd adds), in delivery order.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            files.extend(list(&self.maildir().join(sub)));
        }
        // Maildir names start with the delivery time (seconds, then microseconds).
        files.sort_by_key(|(modified, name)| (*modified, name.clone()));
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read(path).ok())
            .collect()
    }

    /// Waits up to `timeout` until at least `count` messages arrived; all of them.
    pub async fn wait_for_messages(&self, count: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn list(dir: &Path) -> Vec<(std::time::SystemTime, PathBuf)> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            Some((modified, e.path()))
        })
        .collect()
}
