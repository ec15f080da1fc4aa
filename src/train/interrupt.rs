//! Stopping a run cleanly. A [`Stopper`] (from [`Trainer::stopper`](super::Trainer::stopper))
//! asks a running [`Trainer::fit`](super::Trainer::fit) to stop after the step it is on: it
//! saves a checkpoint that resumes at exactly that step, writes `summary.json` and returns
//! [`Error::Interrupted`](crate::Error::Interrupted). With
//! [`TrainOptions::stop_on_ctrl_c`](super::TrainOptions::stop_on_ctrl_c), Ctrl-C (SIGINT, or
//! SIGTERM) does the same during `fit`; a second one ends the process as it always would.

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
/// dropping it puts the earlier handlers back.
pub(crate) struct CatchSignals {
    #[cfg(unix)]
    previous: Vec<(libc::c_int, libc::sighandler_t)>,
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
            let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            let previous = [libc::SIGINT, libc::SIGTERM]
                .into_iter()
                // SAFETY: the handler only stores to an atomic and calls signal().
                .map(|s| (s, unsafe { libc::signal(s, handler) }))
                .filter(|&(_, p)| p != libc::SIG_ERR)
                .collect();
            CatchSignals { previous }
        }
        #[cfg(not(unix))]
        CatchSignals {}
    }
}

impl Drop for CatchSignals {
    fn drop(&mut self) {
        #[cfg(unix)]
        for &(signal, previous) in &self.previous {
            // SAFETY: restores the handler that was there before `install`.
            unsafe {
                libc::signal(signal, previous);
            }
        }
    }
}
