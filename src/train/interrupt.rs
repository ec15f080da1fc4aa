//! Stopping a run cleanly. A [`Stopper`] (from [`Trainer::stopper`](super::Trainer::stopper))
//! asks a running [`Trainer::fit`](super::Trainer::fit) to stop after the step it is on: it
//! saves a checkpoint that resumes at exactly that step, writes `summary.json` and returns
//! [`Error::Interrupted`](crate::Error::Interrupted). With
//! [`TrainOptions::stop_on_ctrl_c`](super::TrainOptions::stop_on_ctrl_c), Ctrl-C (SIGINT, or
//! SIGTERM) does the same during `fit` on Unix; a second one, a second or more after the first,
//! ends the process as it always would (one sooner is the same signal delivered twice, as
//! `timeout` does to a process and its group). Elsewhere signals are left alone (a [`Stopper`]
//! still works).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set by the signal handler; taken by the run that catches signals.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// When the first caught signal arrived (monotonic nanoseconds + 1; 0: none yet).
#[cfg(unix)]
static FIRST_SIGNAL_NS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A second signal within this long of the first is the same request delivered twice (`timeout`
/// and job runners signal a process and its process group both), not a user insisting.
#[cfg(unix)]
const REPEAT_NS: u64 = 1_000_000_000;

/// Asks one run to stop after its current step; clones ask the same run.
#[derive(Clone, Debug, Default)]
pub struct Stopper(Arc<AtomicBool>);

impl Stopper {
    /// Asks the run to stop (from any thread; safe to call more than once).
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for and not yet honoured.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Takes the request (this run's, or a caught signal's when `signals`), clearing it.
    pub(crate) fn take(&self, signals: bool) -> bool {
        let own = self.0.swap(false, Ordering::SeqCst);
        let signalled = signals && SIGNALLED.swap(false, Ordering::SeqCst);
        own || signalled
    }
}

/// While alive, the first SIGINT or SIGTERM sets [`SIGNALLED`] instead of ending the process;
/// dropping it puts the earlier dispositions back whole (`sigaction`, flags and mask
/// included). A signal the process ignores stays ignored. One run at a time: a second
/// `CatchSignals` while one is alive shares the same flag.
pub(crate) struct CatchSignals {
    #[cfg(unix)]
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

#[cfg(unix)]
extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe calls here: clock_gettime, signal, raise, and atomics.
    let now = unsafe {
        let mut t: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t);
        t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64 + 1
    };
    let first = FIRST_SIGNAL_NS.load(Ordering::SeqCst);
    if first == 0 {
        FIRST_SIGNAL_NS.store(now, Ordering::SeqCst);
        SIGNALLED.store(true, Ordering::SeqCst);
    } else if now.saturating_sub(first) >= REPEAT_NS {
        // Asked again: end the process as if no handler had been installed.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}

impl CatchSignals {
    pub(crate) fn install() -> CatchSignals {
        SIGNALLED.store(false, Ordering::SeqCst);
        #[cfg(unix)]
        {
            FIRST_SIGNAL_NS.store(0, Ordering::SeqCst);
            let mut previous = Vec::new();
            for signal in [libc::SIGINT, libc::SIGTERM] {
                // SAFETY: plain sigaction calls on zeroed structs; the handler makes only
                // async-signal-safe calls.
                unsafe {
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                        || old.sa_sigaction == libc::SIG_IGN
                    {
                        continue;
                    }
                    let mut new: libc::sigaction = std::mem::zeroed();
                    new.sa_sigaction =
                        on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                    // Interrupted system calls in other threads resume, as with signal().
                    new.sa_flags = libc::SA_RESTART;
                    libc::sigemptyset(&mut new.sa_mask);
                    if libc::sigaction(signal, &new, std::ptr::null_mut()) == 0 {
                        previous.push((signal, old));
                    }
                }
            }
            CatchSignals { previous }
        }
        #[cfg(not(unix))]
        CatchSignals {}
    }
}

impl Drop for CatchSignals {
    fn drop(&mut self) {
        #[cfg(unix)]
        for (signal, old) in &self.previous {
            // SAFETY: restores the disposition saved by `install`.
            unsafe {
                libc::sigaction(*signal, old, std::ptr::null_mut());
            }
        }
    }
}
