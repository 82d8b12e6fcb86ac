//! Child processes that die with their parent.
//!
//! Linux delivers the "parent death" signal (`PR_SET_PDEATHSIG`) when the *thread* that
//! spawned the child exits, so each child is spawned from a thread of its own that lives
//! exactly as long as the child: the child is signalled if this process dies for any reason,
//! even SIGKILL, and never earlier.

use std::os::unix::process::CommandExt;
use std::process::{ChildStdout, Command, ExitStatus};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

type ExitCell = Arc<(Mutex<Option<ExitStatus>>, Condvar)>;

/// A running child that receives a signal when this process dies; killed on drop.
#[derive(Debug)]
pub struct TiedChild {
    pid: i32,
    exit: ExitCell,
}

/// What a child does between fork and exec (see [`prepare`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildSetup {
    /// Lead a process group of its own (a Ctrl-C in the terminal then reaches the parent only).
    pub own_process_group: bool,
    /// Run as this `(uid, gid)` (PostgreSQL refuses to run as root).
    pub user: Option<(u32, u32)>,
    /// The signal the child receives when this process (the spawning thread) dies.
    pub death_signal: Option<i32>,
}

/// Arranges for the child of `cmd` to receive `death_signal` when this process dies, with no
/// other change: `prepare(cmd, ChildSetup { death_signal: Some(sig), ..Default::default() })`.
pub fn die_with_parent(cmd: &mut Command, death_signal: i32) {
    prepare(
        cmd,
        ChildSetup {
            death_signal: Some(death_signal),
            ..ChildSetup::default()
        },
    );
}

/// Sets up what the child of `cmd` does between fork and exec: its own process group, a
/// `(uid, gid)` switch, and a parent-death signal (set after the switch, which would clear it;
/// the child exits at once if the parent died before).
pub fn prepare(cmd: &mut Command, setup: ChildSetup) {
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: only async-signal-safe libc calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if setup.own_process_group && libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Some((uid, gid)) = setup.user
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(signal) = setup.death_signal {
                libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong);
                // The parent may have died before prctl: then nobody would signal us.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("parent exited"));
                }
            }
            Ok(())
        });
    }
}

/// `(uid, gid)` of the `postgres` system user when running as root, else `None`.
pub fn postgres_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() > 3 && f[0] == "postgres")
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

impl TiedChild {
    /// Spawns `cmd` (already set up with [`prepare`] or [`die_with_parent`]) from a thread that waits for
    /// it; returns the child and its stdout if `cmd` pipes it.
    pub fn spawn(name: &str, mut cmd: Command) -> std::io::Result<(Self, Option<ChildStdout>)> {
        let exit: ExitCell = Arc::new((Mutex::new(None), Condvar::new()));
        let cell = exit.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("child-{name}"))
            .spawn(move || match cmd.spawn() {
                Ok(mut child) => {
                    let _ = tx.send(Ok((child.id() as i32, child.stdout.take())));
                    let status = child
                        .wait()
                        .unwrap_or_else(|_| std::os::unix::process::ExitStatusExt::from_raw(-1));
                    let (lock, cvar) = &*cell;
                    *lock.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
                    cvar.notify_all();
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            })?;
        let (pid, stdout) = rx
            .recv()
            .map_err(|_| std::io::Error::other(format!("the thread spawning {name} died")))??;
        Ok((Self { pid, exit }, stdout))
    }

    /// The process id.
    pub const fn pid(&self) -> i32 {
        self.pid
    }

    /// The exit status, once the child has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.exit.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `signal` to the child (if it still runs).
    pub fn signal(&self, signal: i32) {
        if self.exit_status().is_none() {
            // SAFETY: signalling our own child, which has not been reaped yet.
            unsafe { libc::kill(self.pid, signal) };
        }
    }

    /// Waits up to `timeout` for the child to exit; whether it did.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let (lock, cvar) = &*self.exit;
        let deadline = Instant::now() + timeout;
        let mut slot = lock.lock().unwrap_or_else(|e| e.into_inner());
        while slot.is_none() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            slot = cvar
                .wait_timeout(slot, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

impl Drop for TiedChild {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
        self.wait_timeout(Duration::from_secs(5));
    }
}
