//! One thread at a time on a GL device.
//!
//! wgpu's GL backend keeps one GL context per device behind a lock that a thread waits on for
//! at most six seconds before it panics ("Could not lock adapter context"). Creating a buffer,
//! writing one, mapping one and dropping one all take that lock, and a submission holds it
//! while its commands execute, which on a CPU GL driver (llvmpipe runs compute dispatches
//! synchronously) is the whole step. So two threads sharing a GL context, such as tests
//! sharing one, panicked whenever one thread's submission or shader compile ran past six
//! seconds. kiln therefore runs everything it does on a GL device, drops included, inside that
//! device's [`Gate`], which waits without a limit; on every other backend the gate is absent
//! and costs nothing.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::ThreadId;

/// A re-entrant lock: the thread inside may enter again (a tensor dropped inside a submission's
/// scope, say); any other thread waits until it has left.
#[derive(Default)]
pub(crate) struct Gate {
    holder: Mutex<Holder>,
    left: Condvar,
}

#[derive(Default)]
struct Holder {
    thread: Option<ThreadId>,
    depth: usize,
}

/// Inside a gate until dropped (or nothing, for a device that needs none).
#[must_use]
pub(crate) struct Entered(Option<Arc<Gate>>);

/// Enters `gate`, if there is one.
pub(crate) fn enter(gate: Option<&Arc<Gate>>) -> Entered {
    let Some(gate) = gate else {
        return Entered(None);
    };
    let me = std::thread::current().id();
    let mut holder = gate.holder.lock().unwrap_or_else(PoisonError::into_inner);
    while holder.thread.is_some_and(|t| t != me) {
        holder = gate
            .left
            .wait(holder)
            .unwrap_or_else(PoisonError::into_inner);
    }
    holder.thread = Some(me);
    holder.depth += 1;
    Entered(Some(Arc::clone(gate)))
}

impl Drop for Entered {
    fn drop(&mut self) {
        if let Some(gate) = &self.0 {
            let mut holder = gate.holder.lock().unwrap_or_else(PoisonError::into_inner);
            holder.depth -= 1;
            if holder.depth == 0 {
                holder.thread = None;
                gate.left.notify_one();
            }
        }
    }
}

/// A wgpu object that is dropped inside its device's gate (see the module's header).
pub(crate) struct Serialized<T> {
    value: ManuallyDrop<T>,
    gate: Option<Arc<Gate>>,
}

impl<T> Serialized<T> {
    pub(crate) fn new(value: T, gate: Option<&Arc<Gate>>) -> Serialized<T> {
        Serialized {
            value: ManuallyDrop::new(value),
            gate: gate.cloned(),
        }
    }
}

impl<T> Deref for Serialized<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Clone> Clone for Serialized<T> {
    fn clone(&self) -> Serialized<T> {
        Serialized::new(T::clone(&self.value), self.gate.as_ref())
    }
}

impl<T: fmt::Debug> fmt::Debug for Serialized<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T> Drop for Serialized<T> {
    fn drop(&mut self) {
        let _inside = enter(self.gate.as_ref());
        // SAFETY: `value` is dropped exactly once, here, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.value) }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_gate_admits_one_thread_at_a_time_and_lets_it_enter_again() {
        let gate = Arc::new(Gate::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (gate, inside, most) = (gate.clone(), inside.clone(), most.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let _outer = enter(Some(&gate));
                        let _again = enter(Some(&gate));
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "two threads were inside at once"
        );
        let holder = gate.holder.lock().unwrap();
        assert_eq!(
            (holder.thread, holder.depth),
            (None, 0),
            "the gate was left held"
        );
    }
}
