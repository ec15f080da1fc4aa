//! Stopping a run cleanly. A [`Stopper`] (from [`Trainer::stopper`](super::Trainer::stopper))
//! asks a running [`Trainer::fit`](super::Trainer::fit) to stop after the step it is on: it
//! saves a checkpoint that resumes at exactly that step, writes `summary.json` and returns
//! [`Error::Interrupted`](crate::Error::Interrupted). With
//! [`TrainOptions::stop_on_ctrl_c`](super::TrainOptions::stop_on_ctrl_c), Ctrl-C (SIGINT, or
//! SIGTERM) does the same during `fit` on Unix; a second one ends the process as it always
//! would. Elsewhere signals are left alone (a [`Stopper`] still works).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set by the signal handler; taken by the run that catches signals.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

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
    SIGNALLED.store(true, Ordering::SeqCst);
    // A second signal ends the process as if none had been caught (signal() is
    // async-signal-safe).
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
    }
}

impl CatchSignals {
    pub(crate) fn install() -> CatchSignals {
        SIGNALLED.store(false, Ordering::SeqCst);
        #[cfg(unix)]
        {
            let mut previous = Vec::new();
            for signal in [libc::SIGINT, libc::SIGTERM] {
                // SAFETY: plain sigaction calls on zeroed structs; the handler only stores to
                // an atomic and calls signal().
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
