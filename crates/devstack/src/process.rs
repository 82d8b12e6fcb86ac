//! Supervised child processes: each runs in its own process group, its output goes to a log
//! file, and it is signalled when the stack stops, is dropped, or when this process dies.
//!
//! A child is spawned by the test kit's `TiedChild`, from a dedicated thread that lives exactly
//! as long as the child: Linux delivers the "parent death" signal (`PR_SET_PDEATHSIG`) when the
//! spawning *thread* exits, so the child is signalled if this process dies for any reason, even
//! SIGKILL, and never earlier.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
pub(crate) use tangible_testkit::process::postgres_user;
use tangible_testkit::process::{ChildSetup, TiedChild, prepare};

/// How a child is started and stopped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpawnOptions {
    /// Signal asking the child to stop (SIGTERM; SIGINT = fast shutdown for postgres).
    pub(crate) stop_signal: i32,
    /// Signal the child receives when this process dies.
    pub(crate) death_signal: i32,
    /// Run as this `(uid, gid)` (postgres refuses to run as root).
    pub(crate) user: Option<(u32, u32)>,
    /// Signal the whole process group (every descendant), not only the child.
    pub(crate) signal_group: bool,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        Self {
            stop_signal: libc::SIGTERM,
            death_signal: libc::SIGKILL,
            user: None,
            signal_group: true,
        }
    }
}

/// A running child process, stopped on drop.
#[derive(Debug)]
pub(crate) struct Managed {
    name: String,
    child: TiedChild,
    options: SpawnOptions,
    log: PathBuf,
    stopped: bool,
}

impl Managed {
    /// Spawns `cmd` with stdin closed and stdout/stderr appended to `log`.
    pub(crate) fn spawn(
        name: &str,
        mut cmd: Command,
        log: &Path,
        options: SpawnOptions,
    ) -> Result<Self> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening the log {}", log.display()))?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        // Own process group: a Ctrl-C in the terminal reaches the supervisor only, which stops
        // the components in order.
        prepare(
            &mut cmd,
            ChildSetup {
                own_process_group: true,
                user: options.user,
                death_signal: Some(options.death_signal),
            },
        );
        let program = cmd.get_program().to_string_lossy().into_owned();
        let (child, _) =
            TiedChild::spawn(name, cmd).with_context(|| format!("starting {name} ({program})"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            options,
            log: log.to_owned(),
            stopped: false,
        })
    }

    /// [`Managed::spawn`] with the default options, logging to `<log_dir>/<name>.log`.
    pub(crate) fn spawn_logged(name: &str, cmd: Command, log_dir: &Path) -> Result<Self> {
        let log = log_dir.join(format!("{name}.log"));
        Self::spawn(name, cmd, &log, SpawnOptions::default())
    }

    /// The component's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub(crate) const fn pid(&self) -> i32 {
        self.child.pid()
    }

    /// The exit status, if the child has exited.
    pub(crate) fn exit_status(&self) -> Option<ExitStatus> {
        self.child.exit_status()
    }

    /// Whether this child, and not some other process, listens on TCP `port` (IPv4 or IPv6,
    /// any address): checked before probing a component on a port that was picked free, so
    /// that a probe never talks to a process that took the port in between.
    pub(crate) fn listens_on(&self, port: u16) -> bool {
        let sockets: Vec<String> = listening_sockets(port)
            .into_iter()
            .map(|inode| format!("socket:[{inode}]"))
            .collect();
        if sockets.is_empty() {
            return false;
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{}/fd", self.pid())) else {
            return false;
        };
        fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| sockets.iter().any(|s| target.as_os_str() == s.as_str()))
        })
    }

    /// Calls `probe` every `every` until it succeeds (each call bounded by 5 s), asking only
    /// once this child itself listens on `port` ([`Managed::listens_on`]). Fails as soon as the
    /// child exits, and with the last error once `limit` has passed.
    pub(crate) async fn probe_own_port<T, E, F>(
        &self,
        port: u16,
        every: Duration,
        limit: Duration,
        mut probe: impl FnMut() -> F,
    ) -> Result<T>
    where
        F: Future<Output = Result<T, E>>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        loop {
            self.ensure_running()?;
            let answer = if self.listens_on(port) {
                tokio::time::timeout(Duration::from_secs(5), probe())
                    .await
                    .map_err(|_| anyhow!("no answer in 5 s"))
                    .and_then(|r| r.map_err(anyhow::Error::new))
            } else {
                Err(anyhow!("not listening on port {port} yet"))
            };
            match answer {
                Ok(v) => return Ok(v),
                Err(e) if started.elapsed() > limit => return Err(e),
                Err(_) => tokio::time::sleep(every).await,
            }
        }
    }

    /// An error if the child has exited, naming its log and quoting its end.
    pub(crate) fn ensure_running(&self) -> Result<()> {
        match self.exit_status() {
            None => Ok(()),
            Some(status) => Err(anyhow!(
                "{} exited ({status}); its log {} ends with:\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 2000)
            )),
        }
    }

    fn wait_exit(&self, timeout: Duration) -> bool {
        self.child.wait_timeout(timeout)
    }

    fn signal(&self, sig: i32, group: bool) {
        let target = if group { -self.pid() } else { self.pid() };
        // SAFETY: signalling our own child (or its process group, which it leads).
        unsafe { libc::kill(target, sig) };
    }

    /// Asks the child to stop, waits up to `grace`, then kills its whole process group.
    pub(crate) fn stop(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if self.exit_status().is_none() {
            self.signal(self.options.stop_signal, self.options.signal_group);
            if !self.wait_exit(grace) {
                self.signal(libc::SIGKILL, true);
                self.wait_exit(Duration::from_secs(5));
            }
        }
        // Whatever the child left in its group (it leads it) goes too.
        self.signal(libc::SIGKILL, true);
    }
}

impl Drop for Managed {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(10));
    }
}

/// The inodes of the TCP sockets listening on `port` (`/proc/net/tcp` and `tcp6`: state `0A`,
/// local address `ADDR:PORT` in hex, inode in the tenth column).
fn listening_sockets(port: u16) -> Vec<u64> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" {
                continue;
            }
            let local_port = f[1]
                .rsplit_once(':')
                .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok());
            if local_port == Some(port)
                && let Ok(inode) = f[9].parse()
            {
                inodes.push(inode);
            }
        }
    }
    inodes
}

/// The last `max` bytes of a log file (lossy UTF-8), for error messages.
pub(crate) fn tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}
