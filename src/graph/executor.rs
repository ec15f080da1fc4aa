//! The executor: a step writes the step's hyper-parameters and seed (two tiny buffers),
//! records every dispatch the planner made into one encoder and submits once; watched values
//! come back through a ring of readback buffers without stalling the next step. Nothing here
//! creates a pipeline, bind group or buffer.

use std::sync::{Arc, Mutex};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::kernels::record_all;
use crate::ops::dropout;
use crate::optim::{average_decay, AVERAGE_SLOT};
use crate::serial::Serialized;
use crate::tensor::Tensor;

use super::plan::{Plan, Reading};

/// Slots in the readback ring: a step's readings arrive while up to this many later steps run.
pub(super) const RING: usize = 4;

pub(super) struct RingSlot {
    /// Dropped inside the device's gate (GL; see [`crate::serial`]).
    pub(super) buffer: Serialized<wgpu::Buffer>,
    pub(super) step: u64,
    /// `Some(result)` once the map callback ran.
    pub(super) mapped: Arc<Mutex<Option<std::result::Result<(), wgpu::BufferAsyncError>>>>,
    pub(super) in_flight: bool,
}

pub(super) struct Watch {
    pub(super) sources: Vec<(Tensor, u64)>,
    pub(super) slots: Vec<RingSlot>,
    pub(super) ready: Vec<Reading>,
}

impl Plan {
    /// Times every dispatch of one step on its own (a submission and a wait each) and returns
    /// `(kernel label, seconds)` in step order: where a step's time goes. Slow by design (no
    /// overlap between dispatches); for profiling, not for training. Advances the step count.
    pub fn profile(&mut self, ctx: &Context) -> Result<Vec<(String, f64)>> {
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kiln.plan.profile"),
            });
        // Writes this step's hyper-parameters and seed; the recorded commands are dropped.
        self.record(ctx, &mut encoder)?;
        drop(encoder);
        let mut times = Vec::with_capacity(self.dispatches.len());
        for d in &self.dispatches {
            let start = std::time::Instant::now();
            let index = crate::kernels::run(ctx, std::slice::from_ref(d))?;
            ctx.wait(Some(index))?;
            times.push((d.label().to_string(), start.elapsed().as_secs_f64()));
        }
        Ok(times)
    }

    /// Runs one step: writes the step's learning rate and seed, records every dispatch into one
    /// encoder, submits once. Does not wait.
    ///
    /// A lost device is an error from the first call after wgpu reports it, which is once the
    /// work submitted before the loss has drained (WebGPU's rule: work on a lost device is a
    /// silent no-op); the poll here lets wgpu report it without waiting.
    pub fn step(&mut self, ctx: &Context) -> Result<()> {
        // Submitted and mapped by this thread alone (GL; see `crate::serial`).
        let _inside = ctx.exclusive();
        ctx.poll("starting a step")?;
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kiln.plan.step"),
            });
        self.record(ctx, &mut encoder)?;
        let slot = self.copy_watched(ctx, &mut encoder)?;
        ctx.submit(encoder.finish())?;
        if let (Some(w), Some(s)) = (&mut self.watch, slot) {
            let state = w.slots[s].mapped.clone();
            w.slots[s]
                .buffer
                .slice(..)
                .map_async(wgpu::MapMode::Read, move |r| {
                    if let Ok(mut m) = state.lock() {
                        *m = Some(r);
                    }
                });
            w.slots[s].in_flight = true;
        }
        ctx.check()
    }

    /// Records one step into the caller's encoder (a host's frame) and submits nothing: the step
    /// runs when the host submits the encoder, ordered with the host's own passes in it. Creates
    /// no wgpu object (a test checks both).
    ///
    /// The step's learning rate and seed go through `queue.write_buffer`, which wgpu orders
    /// before the next `queue.submit` on that queue, whoever calls it. So record **one step per
    /// submission**: two steps recorded into encoders submitted together would both read the
    /// second step's values (with Adam, its bias correction). Inputs written with
    /// [`Plan::set_input_f32`] follow the same rule. Watched values are not copied in this mode
    /// (read outputs with [`Plan::read_f32`], or bind [`Plan::output`]'s buffer directly).
    pub fn record(&mut self, ctx: &Context, encoder: &mut wgpu::CommandEncoder) -> Result<()> {
        self.step += 1;
        if let Some(t) = &self.train {
            let tr = &t.training;
            let lr = tr.optimizer.lr() * tr.schedule.factor(self.step);
            let mut hyper = tr.optimizer.hyper(self.step, lr)?;
            if let Some(decay) = tr.ema_decay {
                hyper[AVERAGE_SLOT] = average_decay(decay, self.step);
            }
            t.hyper.write_f32(ctx, &hyper)?;
        }
        // Steps past 2^32 wrap the mask stream: harmless, and far beyond any run.
        let words = dropout::seed_words(self.seed, self.step as u32);
        self.seed_tensor.write_u32(ctx, &words)?;
        record_all(encoder, &self.dispatches);
        Ok(())
    }

    /// Watched values of finished steps, oldest first, without waiting for running ones.
    pub fn readings(&mut self, ctx: &Context) -> Result<Vec<Reading>> {
        let _inside = ctx.exclusive();
        ctx.poll("polling for readings")?;
        ctx.check()?;
        let Some(w) = &mut self.watch else {
            return Ok(Vec::new());
        };
        // Readings leave in step order: a slot whose map finished early (another thread's poll
        // can run the callbacks between two checks) waits until every earlier step has arrived.
        let mut order: Vec<usize> = (0..w.slots.len())
            .filter(|&s| w.slots[s].in_flight)
            .collect();
        order.sort_by_key(|&s| w.slots[s].step);
        for s in order {
            if !slot_mapped(&w.slots[s]) {
                break;
            }
            let reading = take_slot(&mut w.slots[s], &w.sources)?;
            w.ready.push(reading);
        }
        Ok(std::mem::take(&mut w.ready))
    }

    /// Waits for every watched step in flight and returns all readings not yet taken.
    pub fn flush_readings(&mut self, ctx: &Context) -> Result<Vec<Reading>> {
        ctx.wait(None)?;
        let mut out = self.readings(ctx)?;
        let _inside = ctx.exclusive();
        if let Some(w) = &mut self.watch {
            // The map callbacks of the last submission may need one more poll.
            let start = std::time::Instant::now();
            while w.slots.iter().any(|s| s.in_flight) {
                ctx.poll("polling for readings")?;
                for s in 0..w.slots.len() {
                    if w.slots[s].in_flight && slot_mapped(&w.slots[s]) {
                        out.push(take_slot(&mut w.slots[s], &w.sources)?);
                    }
                }
                if start.elapsed() > crate::context::WAIT_LIMIT {
                    return Err(Error::Timeout {
                        during: "mapping watched values".into(),
                        seconds: start.elapsed().as_secs_f64(),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        out.sort_by_key(|r| r.step);
        Ok(out)
    }

    /// Copies watched values into the ring slot of this step; a slot still in flight from
    /// `RING` steps ago is waited for and read first (back-pressure, not a per-step stall).
    fn copy_watched(
        &mut self,
        ctx: &Context,
        encoder: &mut wgpu::CommandEncoder,
    ) -> Result<Option<usize>> {
        let step = self.step;
        let Some(w) = &mut self.watch else {
            return Ok(None);
        };
        let s = (step as usize) % RING;
        if w.slots[s].in_flight {
            let start = std::time::Instant::now();
            // Bounded: the queue wait is taken in slices that notice a lost device, and the
            // map callback that follows it gets the same limit.
            while !slot_mapped(&w.slots[s]) {
                if start.elapsed() > crate::context::WAIT_LIMIT {
                    return Err(Error::Timeout {
                        during: "mapping watched values".into(),
                        seconds: start.elapsed().as_secs_f64(),
                    });
                }
                ctx.wait(None)?;
                if !slot_mapped(&w.slots[s]) {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
            let reading = take_slot(&mut w.slots[s], &w.sources)?;
            w.ready.push(reading);
        }
        let mut offset = 0;
        for (t, size) in &w.sources {
            encoder.copy_buffer_to_buffer(
                t.buffer(),
                t.offset(),
                &w.slots[s].buffer,
                offset,
                *size,
            );
            offset += size;
        }
        w.slots[s].step = step;
        Ok(Some(s))
    }
}

/// Whether the slot's map callback has run (a poisoned lock counts as not yet).
fn slot_mapped(slot: &RingSlot) -> bool {
    slot.mapped.lock().map(|m| m.is_some()).unwrap_or(false)
}

fn take_slot(slot: &mut RingSlot, sources: &[(Tensor, u64)]) -> Result<Reading> {
    let result = slot.mapped.lock().ok().and_then(|mut m| m.take());
    slot.in_flight = false;
    if let Some(Err(e)) = result {
        return Err(Error::Wgpu {
            during: "mapping watched values".into(),
            message: e.to_string(),
        });
    }
    let floats: Vec<f32> = crate::tensor::mapped_words(&slot.buffer, "reading watched values")?;
    let mut values = Vec::new();
    let mut at = 0;
    for (_, size) in sources {
        let n = (*size / 4) as usize;
        values.push(floats[at..at + n].to_vec());
        at += n;
    }
    Ok(Reading {
        step: slot.step,
        values,
    })
}
